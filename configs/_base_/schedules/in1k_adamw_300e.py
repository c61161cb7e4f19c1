# ImageNet-1K recipe of the paper (section 6): AdamW, lr 1e-3 at batch 1024, wd 0.05,
# 5 warm-up epochs then cosine decay over 300 epochs. No weight decay on 1-D
# parameters (norms, biases, layer scales), as timm/DeiT.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5, end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr above is for 16 GPUs x 64 images; mmengine rescales it for other total batch sizes
# when training with --auto-scale-lr.
auto_scale_lr = dict(base_batch_size=1024)
