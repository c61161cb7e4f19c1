# Mask R-CNN, UniFormer-S with global attention in every stage-3 block, 1x schedule (the
# paper's stage-3 ablation for detection; otherwise as mask_rcnn_uniformer_s_h14_1x.py).
_base_ = ['./mask_rcnn_uniformer_s_h14_1x.py']
model = dict(backbone=dict(stage3_mode='global'))
