# UperNet, UniFormer-B trained global, evaluated with hybrid stage 3 of 32x32 windows on the same
# weights (upernet_global_base tested with test_config_h32.py).
# Official: 80M params, 1106 GFLOPs at 512x2048, 49.5 mIoU (50.7 multi-scale).
_base_ = ['./upernet_uniformer_b_160k.py']
model = dict(backbone=dict(eval_stage3_mode='hybrid', window_size=32))
