# Semantic FPN, UniFormer-S, stage 3 global in training and testing, 80k iterations, ADE20K
# (semantic_segmentation/fpn_seg/exp/fpn_global_small, tested with test_config_g.py).
# Official: 25M params, 247 GFLOPs at 512x2048, 46.6 mIoU (single scale).
# The backbone starts from the official ImageNet-1K UniFormer-S checkpoint: put it at
# `pretrained` (or override model.backbone.init_cfg.checkpoint).
_base_ = [
    '../_base_/models/seg_fpn_uniformer.py',
    '../_base_/datasets/ade20k_seg_align32.py',
    '../_base_/schedules/seg_fpn_adamw_80k.py',
    'mmseg::_base_/default_runtime.py',
]
pretrained = 'checkpoints/uniformer_small_in1k.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
