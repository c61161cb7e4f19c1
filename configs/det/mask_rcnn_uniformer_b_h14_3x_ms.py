# Mask R-CNN, UniFormer-B hybrid (h14), 3x schedule with multi-scale + crop training, COCO
# (object_detection/exp/mask_rcnn_3x_ms_hybrid_base). Official: 50.3 box / 44.8 mask mAP.
# Drop path 0.3, otherwise as mask_rcnn_uniformer_s_h14_3x_ms.py.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./mask_rcnn_uniformer_s_h14_3x_ms.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(backbone=dict(arch='base', drop_path_rate=0.3, init_cfg=dict(checkpoint=pretrained)))
