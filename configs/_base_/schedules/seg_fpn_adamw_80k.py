# Semantic FPN schedule of the released configs (semantic_segmentation/fpn_seg/exp*/config.py,
# "8 GPUs instead of 4: lr x2, iterations /2"): AdamW lr 2e-4, weight decay 1e-4 on every
# parameter, 80k iterations, cosine annealing to 1e-8 x lr, linear warm-up over the first 1000
# iterations from 0.1 x lr (both from iteration 0: mmcv 1.x multiplied the warm-up factor into
# the cosine lr, as these chained schedulers do), validation and a checkpoint every 4000
# iterations. Total batch 32 (8 GPUs x 4 crops): `--auto-scale-lr` rescales the lr for another
# total batch.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4))
# (mmengine's LinearLR reaches its end factor at step end - 1: end=1001 gives mmcv 1.x's
# 1000-iteration warm-up exactly)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1001),
    dict(type='CosineAnnealingLR', T_max=80000, eta_min_ratio=1e-8, by_epoch=False, begin=0,
         end=80000),
]
train_cfg = dict(val_interval=4000)
# mmseg keeps its hooks in the schedule files: the checkpoint hook is mmuniformer's crash-safe one
# (mmengine's CheckpointHook arguments; never a half-written checkpoint)
default_hooks = dict(checkpoint=dict(type='mmuniformer.AtomicCheckpointHook', interval=4000))
auto_scale_lr = dict(enable=False, base_batch_size=32)
