# Semantic FPN, UniFormer-B with hybrid stage 3 (14x14 windows, every 4th block global) in
# training and testing (semantic_segmentation/fpn_seg/exp/fpn_hybrid_base).
# Official: 54M params, 328 GFLOPs at 512x2048, 47.0 mIoU.
_base_ = ['./fpn_uniformer_b_80k.py']
model = dict(backbone=dict(stage3_mode='hybrid', window_size=14))
