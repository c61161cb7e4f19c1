# Mask R-CNN, UniFormer-S hybrid (h14), 3x schedule with multi-scale + crop training, COCO
# (object_detection/exp/mask_rcnn_3x_ms_hybrid_small). Official: 48.2 box / 43.4 mask mAP.
# The backbone starts from the official ImageNet-1K UniFormer-S checkpoint at `pretrained`.
_base_ = [
    '../_base_/models/mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance_ms_crop.py',
    '../_base_/schedules/det_adamw_3x.py',
    '../_base_/runtime/det.py',
]
pretrained = 'checkpoints/uniformer_small_in1k.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.1,
        with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
