# 384 fine-tune schedule of the released scripts (Sense-X/UniFormer image_classification/
# token_labeling/exp/uniformer_{small,base}_tl_384/run.sh): AdamW at a constant lr 5e-6
# (--lr 5.e-6 --min-lr 5.e-6), wd 1e-8, batch 512 (8 GPUs x 64), no EMA.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-6, weight_decay=1e-8, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
# no warm-up: run.sh --warmup-epochs 0 (the paper states 5 warm-up epochs)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=60)]
# 50 + 10 cool-down epochs: run.sh --epochs 50 with main.py --cooldown-epochs 10 (the paper
# states 30 epochs)
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
