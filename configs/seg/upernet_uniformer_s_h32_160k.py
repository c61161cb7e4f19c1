# UperNet, UniFormer-S trained global, evaluated (validation and `mim test`) with hybrid stage 3
# of 32x32 windows (every 4th block global) on the same weights: upernet_global_small tested with
# test_config_h32.py. Official: 52M params, 955 GFLOPs at 512x2048, 47.0 mIoU (48.5 multi-scale).
_base_ = ['./upernet_uniformer_s_160k.py']
model = dict(backbone=dict(eval_stage3_mode='hybrid', window_size=32))
