# Semantic FPN, UniFormer-S with hybrid stage 3 (14x14 windows, every 4th block global) in
# training and testing (semantic_segmentation/fpn_seg/exp/fpn_hybrid_small).
# Official: 25M params, 172 GFLOPs at 512x2048, 46.3 mIoU.
_base_ = ['./fpn_uniformer_s_80k.py']
model = dict(backbone=dict(stage3_mode='hybrid', window_size=14))
