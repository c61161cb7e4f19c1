# Pose schedule of the released UniFormer configs (pose_estimation/exp/top_down_*/config.py):
# AdamW lr 2e-3, betas (0.9, 0.999), weight decay 0.01 on every parameter (the released
# no-decay key `relative_position_bias_table` names no UniFormer parameter); 210 epochs, linear
# warm-up over 500 iterations from 0.001x, lr x0.1 after epochs 170 and 200; mixed precision
# with a dynamic loss scale (released `fp16 = dict(loss_scale='dynamic')`; mmuniformer's
# AutoAmpOptimWrapper: mmengine's AmpOptimWrapper on a GPU, bfloat16 or float32 on a CPU);
# validation every 10 epochs, the best COCO AP kept. Total batch 1024 (8 GPUs x 128):
# `--auto-scale-lr` rescales the lr for another total batch. Runtime (hooks, visualiser,
# logging): mmpose's default with mmuniformer's checkpoint hook (../runtime/pose.py).
_base_ = ['../runtime/pose.py']
optim_wrapper = dict(
    type='mmuniformer.AutoAmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', milestones=[170, 200], gamma=0.1, by_epoch=True, begin=0, end=210),
]
train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=10)
auto_scale_lr = dict(base_batch_size=1024)
default_hooks = dict(checkpoint=dict(interval=5, save_best='coco/AP', rule='greater'))
