# Semantic FPN, UniFormer-B, stage 3 global in training and testing, 80k iterations, ADE20K
# (semantic_segmentation/fpn_seg/exp/fpn_global_base, tested with test_config_g.py): drop path
# 0.2, otherwise as fpn_uniformer_s_80k.py. Official: 54M params, 471 GFLOPs at 512x2048, 48.0 mIoU.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./fpn_uniformer_s_80k.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
