# UniFormer-L with layer scale, trained with token labeling on ImageNet-1K at 224
# (paper: 100M params, 12.6 GFLOPs, 85.6 top-1). Official recipe: lr 1.2e-3 at batch
# 1024, drop path 0.4, EMA, token-label maps 7x7, MixToken, 300 epochs, 5 warm-up.
_base_ = [
    '../_base_/models/uniformer_tl.py',
    '../_base_/datasets/in1k_token_label_224.py',
    '../_base_/schedules/in1k_adamw_300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='large_ls', drop_path_rate=0.4, layer_scale_init=1e-6),
             head=dict(in_channels=640))
optim_wrapper = dict(optimizer=dict(lr=1.2e-3))
# timm ModelEmaV2 decay 0.99996 == momentum 4e-5
custom_hooks = [dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL')]
