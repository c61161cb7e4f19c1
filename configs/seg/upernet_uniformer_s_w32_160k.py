# UperNet, UniFormer-S trained global, evaluated with 32x32 window attention in every stage-3
# block on the same weights (upernet_global_small tested with test_config_w32.py).
# Official: 52M params, 939 GFLOPs at 512x2048, 46.6 mIoU (48.4 multi-scale).
_base_ = ['./upernet_uniformer_s_160k.py']
model = dict(backbone=dict(eval_stage3_mode='window', window_size=32))
