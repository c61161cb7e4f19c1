# Mask R-CNN, UniFormer-S with hybrid stage 3 (14x14 windows, every 4th block global), 1x
# schedule, COCO (object_detection/exp/mask_rcnn_1x_hybrid_small). Official: 41M params,
# 269 GFLOPs at 800x1280, 45.6 box / 41.6 mask mAP.
# The backbone starts from the official ImageNet-1K UniFormer-S checkpoint: put it at
# `pretrained` (or override model.backbone.init_cfg.checkpoint).
_base_ = [
    '../_base_/models/mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/det_adamw_1x.py',
    '../_base_/runtime/det.py',
]
pretrained = 'checkpoints/uniformer_small_in1k.pth'
model = dict(
    backbone=dict(
        with_cp=True,  # released: gradient checkpointing (stage 3)
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
