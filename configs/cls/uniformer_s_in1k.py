# UniFormer-S on ImageNet-1K at 224 (paper Table 1: 21.5M params, 3.6 GFLOPs; Table 2:
# 82.9 top-1): the model base as it is (arch 'small', drop path 0.1), the paper's DeiT recipe.
_base_ = [
    '../_base_/models/uniformer_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/in1k_adamw_300e.py',
    '../_base_/runtime/cls.py',
]
