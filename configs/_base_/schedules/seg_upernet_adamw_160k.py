# UperNet schedule of the released configs (semantic_segmentation/exp/upernet_*/config.py, as
# Swin Transformer's): AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01 except on norm layers
# (every parameter whose name contains 'norm'; the release's other no-decay keys,
# `absolute_pos_embed` and `relative_position_bias_table`, name no UniFormer parameter),
# 160k iterations, poly decay (power 1) to 0, linear warm-up over the first 1500 iterations from
# 1e-6 x lr (both from iteration 0, as mmcv 1.x multiplied them), validation and a checkpoint
# every 16000 iterations (inherited). Total batch 16 (8 GPUs x 2 crops): `--auto-scale-lr`
# rescales the lr for another total batch.
_base_ = ['mmseg::_base_/schedules/schedule_160k.py']
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
# (mmengine's LinearLR and PolyLR reach their end values at step end - 1: end=1501 and 160001
# give mmcv 1.x's 1500-iteration warm-up and 160000-iteration decay exactly)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1501),
    dict(type='PolyLR', eta_min=0., power=1., by_epoch=False, begin=0, end=160001),
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
# mmseg keeps its hooks in the schedule files: the checkpoint hook is mmuniformer's crash-safe one
# (mmengine's CheckpointHook arguments; never a half-written checkpoint)
default_hooks = dict(checkpoint=dict(type='mmuniformer.AtomicCheckpointHook'))
