# Semantic FPN, UniFormer-B trained global, evaluated with 32x32 window attention in every
# stage-3 block on the same weights (fpn_global_base tested with test_config_w32.py).
# Official: 54M params, 310 GFLOPs at 512x2048, 47.0 mIoU.
_base_ = ['./fpn_uniformer_b_80k.py']
model = dict(backbone=dict(eval_stage3_mode='window', window_size=32))
