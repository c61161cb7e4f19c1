# UniFormer-S trained with token labeling at 224 (official token-labeling "small": head_dim 32;
# paper 83.4 top-1), as exp/uniformer_small_tl_224/run.sh of the official release: lr 1.6e-3 at
# batch 1024, drop path 0.1, token-label maps 7x7, MixToken, EMA.
_base_ = [
    '../_base_/models/uniformer_tl.py',
    '../_base_/datasets/in1k_token_label_224.py',
    '../_base_/schedules/in1k_tl_adamw_310e.py',
    '../_base_/runtime/cls.py',
]
model = dict(backbone=dict(arch='small_tl', drop_path_rate=0.1), head=dict(in_channels=512))
# EMA decay 0.99992 (main.py --model-ema-decay default; mmengine momentum = 1 - decay); timm's
# ModelEmaV2 averages the buffers too (BatchNorm statistics). Not in the paper's text.
custom_hooks = [dict(type='EMAHook', momentum=8e-5, update_buffers=True, priority='ABOVE_NORMAL')]
# the release trains with apex AMP (run.sh --apex-amp): add --amp to `mim train` on GPUs
