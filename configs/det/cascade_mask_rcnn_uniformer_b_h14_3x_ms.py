# Cascade Mask R-CNN (4conv1fc SyncBN box heads, GIoU loss), UniFormer-B hybrid (h14), 3x
# schedule with multi-scale + crop training, COCO
# (object_detection/exp/cascade_mask_rcnn_3x_ms_hybrid_base). Official: 107M params,
# 878 GFLOPs at 800x1280, 53.8 box / 46.4 mask mAP. Drop path 0.4, otherwise as
# cascade_mask_rcnn_uniformer_s_h14_3x_ms.py.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./cascade_mask_rcnn_uniformer_s_h14_3x_ms.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.4, init_cfg=dict(checkpoint=pretrained)))
