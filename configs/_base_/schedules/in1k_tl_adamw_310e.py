# Token-labeling schedule of the released scripts (Sense-X/UniFormer image_classification/
# token_labeling/main.py defaults, used by exp/*_tl_224/run.sh): AdamW lr 1.6e-3 at batch 1024
# (8 GPUs x 128), wd 0.05 without decay on 1-D parameters (timm create_optimizer), 5 warm-up
# epochs from --warmup-lr 1e-6, cosine to --min-lr 1e-5 at epoch 300, then --cooldown-epochs 10
# at 1e-5. timm steps this schedule once per epoch; here it is stepped every iteration.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1.6e-3, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 1.6e-3, by_epoch=True, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5, end=300,
         convert_to_iter_based=True),
    # epochs 300-309: no scheduler runs, the lr stays at the cosine's end value 1e-5
]
# 300 + 10 cool-down epochs: main.py --cooldown-epochs 10 (the paper states 300 epochs)
train_cfg = dict(by_epoch=True, max_epochs=310, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr above is for a total batch of 1024; mmengine rescales it with --auto-scale-lr
auto_scale_lr = dict(base_batch_size=1024)
