# UniFormer-XS (lightweight hourglass H-UniFormer), 32 frames at 192x192, on Kinetics-400, from
# inflated ImageNet-1K XS-192 weights. Official: 78.6 top-1 with 1 crop x 1 clip (34.2 GFLOPs;
# "32x1x1" in video_classification/README.md). Released run: video_classification/exp_light/
# uniformer_xs32_192_k400/run.sh and config.yaml: the XXS recipe (sparse sampling over the
# whole video, float32 attention, score-token loss, one centre test view) with drop path 0.1,
# wd 0.05, RandAugment m7-n4, short side ~224 before the 192 crop; lr 4e-4 for 128 videos =
# 1e-4 per 32, 10 warm-up + 110 epochs.
_base_ = './uniformer_xxs_16x4_k400_160.py'
image_size = 192
model = dict(
    backbone=dict(
        arch='xs',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_xs_192_in1k.pth')),
    cls_head=dict(in_channels=512))
# the XXS pipelines of the base with the frames, sizes and RandAugment above
train_pipeline = [
    dict(t, clip_len=32) if t.type == 'UniformSample' else dict(t, transforms=[
        dict(a, scale=(-1, 224)) if a.type == 'Resize' and a.scale[0] == -1 else
        dict(a, scale=(image_size, image_size)) if a.type == 'Resize' else
        dict(a, num_ops=4, magnitude=7) if a.type == 'TorchVisionWrapper' else a
        for a in t.transforms]) if t.type == 'mmuniformer.RepeatAug' else t
    for t in _base_.train_pipeline]
test_pipeline = [
    dict(t, clip_len=32) if t.type == 'UniformSample' else
    dict(t, scale=(-1, image_size)) if t.type == 'Resize' else
    dict(t, crop_size=image_size) if t.type == 'CenterCrop' else t
    for t in _base_.test_pipeline]
val_pipeline = test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
