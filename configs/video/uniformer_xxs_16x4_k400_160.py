# UniFormer-XXS (the lightweight hourglass H-UniFormer), 16 frames one every 4th at 160x160, on
# Kinetics-400, from inflated ImageNet-1K XXS-160 weights (paper Table 12: 16 frames at 160,
# 6.9 GFLOPs per view, 75.1 top-1). Follows the released light run (exp_light/
# uniformer_xxs16_160_k400/run.sh), which differs from the big models in: wd 0.1, drop path
# 0.05, RandAugment m5-n2, short side ~192 before the 160 crop, and a single centre view at
# test (short side 160, centre 160 crop; that run tests 1 clip x 1 crop). lr 1e-4 per 32
# videos (8e-4 for its batch of 256), 10 warm-up + 110 epochs as the paper.
# Differences from the official model (say so when comparing numbers):
# - the released light models sample 16 frames uniformly over the whole video (its
#   `kinetics_sparse` loader); this config keeps the dense 16x4 its name says. To test
#   converted official weights as released, replace SampleFrames by
#   dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True).
# - the official training adds a second loss on the score token (0.5 * CE(head) +
#   0.5 * CE(head_cls)); mmaction2's I3DHead takes the pooled map only, so this config trains
#   with `head` alone (the score token still guides token selection). Inference is the same.
_base_ = './uniformer_s_16x4_k400.py'
image_size = 160
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmuniformer.UniFormerLight',
        arch='xxs',
        ndim=3,
        out_indices=(3, ),
        out_norm='bn',
        out_tuple=False,
        drop_path_rate=0.05,
        inflate='average',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_xxs_160_in1k.pth')),
    cls_head=dict(in_channels=448))
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 192)),
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=2, magnitude=5,
         num_magnitude_bins=11),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, image_size)),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
