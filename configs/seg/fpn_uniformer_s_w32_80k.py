# Semantic FPN, UniFormer-S trained with global stage-3 attention and evaluated with 32x32
# window attention in every stage-3 block on the same weights (fpn_global_small tested with
# test_config_w32.py). Official: 25M params, 183 GFLOPs at 512x2048, 45.6 mIoU.
_base_ = ['./fpn_uniformer_s_80k.py']
model = dict(backbone=dict(eval_stage3_mode='window', window_size=32))
