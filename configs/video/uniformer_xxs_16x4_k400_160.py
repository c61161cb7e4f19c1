# UniFormer-XXS (the lightweight hourglass H-UniFormer), 16 frames at 160x160, on Kinetics-400,
# from inflated ImageNet-1K XXS-160 weights. Official: 75.1 top-1 with 1 crop x 1 clip (6.9
# GFLOPs; "16x1x1" in video_classification/README.md). Released run: video_classification/
# exp_light/uniformer_xxs16_160_k400/run.sh and config.yaml, which differ from the big models:
# - sparse sampling: 16 frames spread over the whole video, one per equal segment (the
#   `kinetics_sparse` dataset; mmaction2's UniformSample), not 16 frames one every 4th (the
#   file name keeps "16x4", the name the model zoo and other configs refer to);
# - the `Uniformer_light_fp32` model: attention computed in float32 with autocast off;
# - a second classifier on the score token, loss 0.5 * CE(head) + 0.5 * CE(head_cls)
#   (tools/train_net_cls.py): mmuniformer.UniFormerLightVideoHead; inference uses the pooled
#   head only;
# - wd 0.1, drop path 0.05, RandAugment m5-n2, short side ~192 before the 160 crop, tested with
#   one centre view (short side 160, centre 160 crop).
# lr 8e-4 for 256 videos = 1e-4 per 32, 10 warm-up + 110 epochs, two augmented samples per
# decoded clip, as the big models.
_base_ = './uniformer_s_16x4_k400.py'
image_size = 160
model = dict(
    backbone=dict(
        type='mmuniformer.UniFormerLight',
        arch='xxs',
        out_tuple=True,
        out_score_token=True,
        attn_fp32=True,
        drop_path_rate=0.05,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_xxs_160_in1k.pth')),
    cls_head=dict(type='mmuniformer.UniFormerLightVideoHead', in_channels=448,
                  loss_weights=(0.5, 0.5)))
# the Kinetics-400 pipelines of the base with the frames, sizes and RandAugment above
train_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1) if t.type == 'SampleFrames' else
    dict(t, transforms=[
        dict(a, scale=(-1, 192)) if a.type == 'Resize' and a.scale[0] == -1 else
        dict(a, scale=(image_size, image_size)) if a.type == 'Resize' else
        dict(a, num_ops=2, magnitude=5) if a.type == 'TorchVisionWrapper' else a
        for a in t.transforms]) if t.type == 'mmuniformer.RepeatAug' else t
    for t in _base_.train_pipeline]
test_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True)
    if t.type == 'SampleFrames' else
    dict(t, scale=(-1, image_size)) if t.type == 'Resize' else
    dict(t, crop_size=image_size) if t.type == 'CenterCrop' else t
    for t in _base_.test_pipeline]
val_pipeline = test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
