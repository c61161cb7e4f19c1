# Mask R-CNN, light UniFormer-XXS (hourglass token shrinking in stages 3-4), 1x schedule, COCO
# (object_detection/exp_light/mask_rcnn_1x_xxs). Official: 29.4M params, 42.8 box / 39.2 mask
# mAP. As released: no drop path, BatchNorms train (norm_eval=False), full precision
# (no mixed precision), no gradient checkpointing.
# The backbone starts from the official ImageNet-1K UniFormer-XXS (224) checkpoint at
# `pretrained`.
_base_ = [
    '../_base_/models/mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/det_adamw_1x.py',
    '../_base_/runtime/det.py',
]
pretrained = 'checkpoints/uniformer_xxs_224_in1k.pth'
model = dict(
    backbone=dict(_delete_=True, type='mmuniformer.UniFormerLight', arch='xxs',
                  out_indices=(0, 1, 2, 3), out_norm='ln',
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
optim_wrapper = dict(type='OptimWrapper')
