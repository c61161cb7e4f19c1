# Semantic FPN, UniFormer-S trained with global stage-3 attention and evaluated (validation and
# `mim test`) with hybrid stage 3 of 32x32 windows (every 4th block global) on the same weights:
# the released fpn_global_small run tested with test_config_h32.py. `train()`/`eval()` switch
# the attention; no weight differs, so a checkpoint of fpn_uniformer_s_80k.py tests here too.
# Official: 25M params, 199 GFLOPs at 512x2048, 46.2 mIoU.
_base_ = ['./fpn_uniformer_s_80k.py']
model = dict(backbone=dict(eval_stage3_mode='hybrid', window_size=32))
