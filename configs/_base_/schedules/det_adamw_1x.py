# Detection schedule of the released UniFormer configs (object_detection/exp*/config.py) on
# mmdet's 1x schedule: 12 epochs, linear warm-up over 500 iterations from 0.001x, lr x0.1 after
# epochs 8 and 11 (all inherited); AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.05 except
# on norm layers (every parameter whose name contains 'norm'); mixed precision as the released
# `use_fp16=True` runs (mmuniformer.AutoAmpOptimWrapper: mmengine's AmpOptimWrapper on a GPU;
# bfloat16 autocast, or float32, on a CPU). Total batch 16 (8 GPUs x 2 images):
# `--auto-scale-lr` rescales the lr for another total batch (base_batch_size 16, inherited).
_base_ = ['mmdet::_base_/schedules/schedule_1x.py']
optim_wrapper = dict(
    type='mmuniformer.AutoAmpOptimWrapper',
    optimizer=dict(
        _delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
