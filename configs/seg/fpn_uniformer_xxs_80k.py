# Semantic FPN, light UniFormer-XXS (hourglass token shrinking in stages 3-4), 80k iterations,
# ADE20K (semantic_segmentation/fpn_seg/exp_light/fpn_xxs): no drop path, BatchNorms train
# (norm_eval=False), otherwise as fpn_uniformer_s_80k.py. Official: 13.5M params, 42.3 mIoU.
# The backbone starts from the official ImageNet-1K UniFormer-XXS (224) checkpoint at `pretrained`.
_base_ = ['./fpn_uniformer_s_80k.py']
pretrained = 'checkpoints/uniformer_xxs_224_in1k.pth'
model = dict(
    backbone=dict(_delete_=True, type='mmuniformer.UniFormerLight', arch='xxs',
                  out_indices=(0, 1, 2, 3), out_norm='ln',
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
