# UniFormer-L with layer scale, trained with token labeling on ImageNet-1K at 224
# (paper: 100M params, 12.6 GFLOPs, 85.6 top-1), as exp/uniformer_large_ls_tl_224/run.sh:
# lr 1.2e-3 at batch 1024, drop path 0.4, token-label maps 7x7, MixToken, EMA.
_base_ = ['./uniformer_s_tl_in1k.py']
model = dict(backbone=dict(arch='large_ls', drop_path_rate=0.4, layer_scale_init=1e-6),
             head=dict(in_channels=640))
optim_wrapper = dict(optimizer=dict(lr=1.2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 1.2e-3, by_epoch=True, end=5,  # from 1e-6
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5, end=300,
         convert_to_iter_based=True),
]
