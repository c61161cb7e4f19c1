# UniFormer-S, 16 frames one every 4th, on Kinetics-600, from inflated ImageNet-1K weights.
# Official: 82.8 top-1 with 1 crop x 4 clips. The Kinetics recipe of the paper (110 epochs,
# 10 warm-up, lr 1e-4 per 32 videos, drop path 0.1).
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/kinetics600_video.py',
    '../_base_/schedules/video_adamw_110e.py',
    'mmaction::_base_/default_runtime.py',
]
num_classes = 600
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_small_in1k.pth')),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
            dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes),
        ])))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
