# UCF101 / HMDB51 recipe of the released runs (exp/uniformer_s16x4_{ucf101,hmdb51}_prek400/
# run.sh: lr 5e-5 for a batch of 128, i.e. 1.25e-5 per 32 videos, 25 epochs, 5 warm-up; the
# paper's text says 1e-5 per 32 and 20 epochs): AdamW, wd 0.05 (none on 1-D parameters:
# norms, biases, as ZERO_WD_1D_PARAM), linear warm-up from 1e-6, cosine decay to 1e-6.
base_lr = 1.25e-5
max_epochs = 25
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
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# lr above is for a total batch of 32 videos; `--auto-scale-lr` rescales it for other batches.
auto_scale_lr = dict(enable=False, base_batch_size=32)
