# Mask R-CNN, UniFormer-B with hybrid stage 3 (14x14 windows, 5 of 20 blocks global), 1x
# schedule, COCO (object_detection/exp/mask_rcnn_1x_hybrid_base). Official: 69M params,
# 399 GFLOPs at 800x1280, 47.4 box / 43.1 mask mAP.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = [
    '../_base_/models/mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/det_adamw_1x.py',
    '../_base_/runtime/det.py',
]
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))  # released: no checkpointing
