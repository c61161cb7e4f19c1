# Mask R-CNN, UniFormer-B hybrid (h14), 3x schedule with multi-scale + crop training, COCO
# (object_detection/exp/mask_rcnn_3x_ms_hybrid_base). Official: 50.3 box / 44.8 mask mAP.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = [
    '../_base_/models/mask_rcnn_uniformer_fpn.py',
    '../_base_/datasets/coco_instance_ms_crop.py',
    '../_base_/schedules/det_adamw_3x.py',
    'mmdet::_base_/default_runtime.py',
]
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
