# UperNet, UniFormer-B with hybrid stage 3 (14x14 windows, every 4th block global) in training
# and testing (semantic_segmentation/exp/upernet_hybrid_base).
# Official: 80M params, 1085 GFLOPs at 512x2048, 48.9 mIoU (50.0 multi-scale).
_base_ = ['./upernet_uniformer_b_160k.py']
model = dict(backbone=dict(stage3_mode='hybrid', window_size=14))
