# Semantic FPN, UniFormer-B trained global, evaluated with hybrid stage 3 of 32x32 windows on the
# same weights (fpn_global_base tested with test_config_h32.py).
# Official: 54M params, 350 GFLOPs at 512x2048, 47.7 mIoU.
_base_ = ['./fpn_uniformer_b_80k.py']
model = dict(backbone=dict(eval_stage3_mode='hybrid', window_size=32))
