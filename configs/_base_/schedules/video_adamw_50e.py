# Something-Something recipe of the paper (section 6.2) and the released V2 runs
# (exp/uniformer_*_sthv2_*/run.sh): AdamW, lr 2e-4 * batch / 32, wd 0.05 (none on 1-D
# parameters), 5 linear warm-up epochs from 1e-6, cosine decay to 1e-6 over 50 epochs.
# The released V1 runs train 60 epochs: video_adamw_60e.py.
base_lr = 2e-4
max_epochs = 50
warmup_epochs = 5
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / base_lr, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# lr above is for a total batch of 32 (lr = 2e-4 * batch / 32); `--auto-scale-lr` applies it.
auto_scale_lr = dict(enable=False, base_batch_size=32)
