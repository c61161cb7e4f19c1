# UniFormer-B, 32 uniformly sampled frames, on Something-Something V1 (JPEG frames), fine-tuned
# from a Kinetics-400 UniFormer-B 32x4. Official: 60.9 top-1 with 3 crops x 1 clip (777 GFLOPs).
# Recipe of the paper: lr 2e-4 per 32 videos, 5 warm-up + 50 epochs (the released run.sh trains
# 60), drop path 0.6 (S 0.3, doubled for B), no flip.
# `load_from` is a Kinetics-400 checkpoint in this repository's format: one trained with
# configs/video/uniformer_b_32x4_k400.py, or the official K400 model converted with
#   python tools/convert_official.py uniformer_base_k400_32x4.pth \
#       checkpoints/uniformer_b_32x4_k400.pth --config configs/video/uniformer_b_32x4_k400.py
# Its 400-class head does not fit the 174 classes and is skipped with a warning.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/sthv1_rawframes.py',
    '../_base_/schedules/video_adamw_50e.py',
    'mmaction::_base_/default_runtime.py',
]
num_classes = 174
num_frames = 32
model = dict(
    backbone=dict(arch='base', drop_path_rate=0.6),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
            dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes),
        ])))
load_from = 'checkpoints/uniformer_b_32x4_k400.pth'
# the SSv1 pipelines (see ../_base_/datasets/sthv1_rawframes.py) with 32 frames
train_pipeline = [
    dict(type='UniformSample', clip_len=num_frames, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7,
         num_magnitude_bins=11),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
