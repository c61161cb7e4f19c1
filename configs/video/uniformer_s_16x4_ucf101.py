# UniFormer-S, 16 frames one every 4th, on UCF101 (split 1), fine-tuned from a Kinetics-400
# UniFormer-S 16x4. Paper Table 6: 98.1 top-1 (the released runs test 3 crops x 5 clips).
# Recipe of the paper: lr 1e-5 per 32 videos, 5 warm-up + 20 epochs, drop path 0.2.
# `load_from` is a Kinetics-400 checkpoint in this repository's format: one trained with
# configs/video/uniformer_s_16x4_k400.py, or the official K400 model converted with
#   python tools/convert_official.py uniformer_small_k400_16x4.pth \
#       checkpoints/uniformer_s_16x4_k400.pth --config configs/video/uniformer_s_16x4_k400.py
# Its 400-class head does not fit the 101 classes and is skipped with a warning.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/ucf101_video.py',
    '../_base_/schedules/video_adamw_20e.py',
    'mmaction::_base_/default_runtime.py',
]
num_classes = 101
model = dict(
    backbone=dict(arch='small', drop_path_rate=0.2),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
            dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes),
        ])))
load_from = 'checkpoints/uniformer_s_16x4_k400.pth'
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=20))
