# Mask R-CNN + FPN on a UniFormer backbone for mmdet 3 (the released
# object_detection/configs/_base_/models/mask_rcnn_uniformer_fpn.py): mmdet's own ResNet-50
# Mask R-CNN with the backbone swapped for UniFormer-S. The four stage outputs (strides 4-32,
# 64/128/320/512 channels) each pass a LayerNorm (`out_norm='ln'`) before the FPN; stage 3
# is hybrid: windowed attention (14x14 windows) with every 4th block global. RPN, RoI heads,
# train/test settings and the data preprocessor (ImageNet mean/std, RGB, pad to 32) are
# mmdet's, identical to the released ones.
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py']
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='mmuniformer.UniFormer', arch='small',
                  out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='hybrid', window_size=14,
                  drop_path_rate=0.2),
    neck=dict(in_channels=[64, 128, 320, 512]))
