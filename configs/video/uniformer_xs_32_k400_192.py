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
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=32, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='mmuniformer.RepeatAug', num_repeats=2, transforms=[
        dict(type='Resize', scale=(-1, 224)),
        dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7,
             num_magnitude_bins=11),
        dict(type='RandomResizedCrop', area_range=(0.08, 1.0),
             aspect_ratio_range=(3 / 4, 4 / 3)),
        dict(type='Resize', scale=(image_size, image_size), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=32, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, image_size)),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
