# UniFormer-S trained with token labeling at 224 (official token-labeling "small":
# head_dim 32; paper 83.4 top-1). lr 1.6e-3 at batch 1024, drop path 0.1.
_base_ = [
    '../_base_/models/uniformer_tl.py',
    '../_base_/datasets/in1k_token_label_224.py',
    '../_base_/schedules/in1k_adamw_300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='small_tl', drop_path_rate=0.1), head=dict(in_channels=512))
optim_wrapper = dict(optimizer=dict(lr=1.6e-3))
custom_hooks = [dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL')]
