# Semantic FPN, light UniFormer-XS, 80k iterations, ADE20K
# (semantic_segmentation/fpn_seg/exp_light/fpn_xs): drop path 0.1, otherwise as
# fpn_uniformer_xxs_80k.py. Official: 19.7M params, 44.4 mIoU.
# The backbone starts from the official ImageNet-1K UniFormer-XS (224) checkpoint at `pretrained`.
_base_ = ['./fpn_uniformer_xxs_80k.py']
pretrained = 'checkpoints/uniformer_xs_224_in1k.pth'
model = dict(
    backbone=dict(
        arch='xs', drop_path_rate=0.1, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
