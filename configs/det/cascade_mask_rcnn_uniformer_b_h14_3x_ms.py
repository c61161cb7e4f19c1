# Cascade Mask R-CNN (4conv1fc SyncBN box heads, GIoU loss), UniFormer-B hybrid (h14), 3x
# schedule with multi-scale + crop training, COCO
# (object_detection/exp/cascade_mask_rcnn_3x_ms_hybrid_base). Official: 107M params,
# 878 GFLOPs at 800x1280, 53.8 box / 46.4 mask mAP.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = [
    '../_base_/models/cascade_mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance_ms_crop.py',
    '../_base_/schedules/det_adamw_3x.py',
    'mmdet::_base_/default_runtime.py',
]
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
