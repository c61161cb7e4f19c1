# Mask R-CNN, light UniFormer-XS (hourglass token shrinking in stages 3-4), 1x schedule, COCO
# (object_detection/exp_light/mask_rcnn_1x_xs). Official: 35.6M params, 44.6 box / 40.9 mask
# mAP. As mask_rcnn_uniformer_xxs_1x.py (full precision, norm_eval=False) with drop path 0.15.
# The backbone starts from the official ImageNet-1K UniFormer-XS (224) checkpoint at
# `pretrained`.
_base_ = ['./mask_rcnn_uniformer_xxs_1x.py']
pretrained = 'checkpoints/uniformer_xs_224_in1k.pth'
model = dict(
    backbone=dict(arch='xs', drop_path_rate=0.15, init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
