# UniFormer-S on ImageNet-1K at 224 (paper: 21.5M params, 3.6 GFLOPs, 82.9 top-1).
_base_ = [
    '../_base_/models/uniformer_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/in1k_adamw_300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='small', drop_path_rate=0.1))
