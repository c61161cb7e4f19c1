# UperNet, UniFormer-S with hybrid stage 3 (14x14 windows, every 4th block global) in training
# and testing (semantic_segmentation/exp/upernet_hybrid_small).
# Official: 52M params, 947 GFLOPs at 512x2048, 46.9 mIoU (48.0 multi-scale).
_base_ = ['./upernet_uniformer_s_160k.py']
model = dict(backbone=dict(stage3_mode='hybrid', window_size=14))
