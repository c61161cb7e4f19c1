# UperNet, UniFormer-B trained global, evaluated with 32x32 window attention in every stage-3
# block on the same weights (upernet_global_base tested with test_config_w32.py).
# Official: 80M params, 1066 GFLOPs at 512x2048, 49.1 mIoU (50.6 multi-scale).
_base_ = ['./upernet_uniformer_b_160k.py']
model = dict(backbone=dict(eval_stage3_mode='window', window_size=32))
