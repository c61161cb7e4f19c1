# UCF101 / HMDB51 recipe of the paper (section 6.2): AdamW, lr 1e-5 * batch / 32, wd 0.05 (none
# on 1-D parameters), 5 linear warm-up epochs, cosine decay over 20 epochs. (The released UCF101
# run.sh trains 25 epochs at lr 5e-5 for a batch of 128, i.e. 1.25e-5 per 32; the paper's
# 20 epochs and 1e-5 per 32 are used.)
base_lr = 1e-5
max_epochs = 20
warmup_epochs = 5
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-7, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# lr above is for a total batch of 32 (lr = 1e-5 * batch / 32); `--auto-scale-lr` applies it.
auto_scale_lr = dict(enable=False, base_batch_size=32)
