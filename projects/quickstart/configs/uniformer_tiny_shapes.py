# Quick start: a tiny UniFormer trained from scratch on the embedded `shapes_cls` data
# (8 classes of shapes and textures, 64x64, made by ../tools/data/make_shapes_cls.py).
# Sized to train on 2 CPU cores in a few minutes; run it from the repository root:
#
#   python projects/quickstart/tools/data/make_shapes_cls.py --out data/shapes_cls
#   mim train mmpretrain projects/quickstart/configs/uniformer_tiny_shapes.py \
#       --work-dir work_dirs/quickstart
#   mim test mmpretrain projects/quickstart/configs/uniformer_tiny_shapes.py \
#       --checkpoint work_dirs/quickstart/epoch_12.pth
#
# or all of it with `bash tools/quickstart.sh`. The test split is the generated val split.
_base_ = [
    '../../../configs/_base_/models/uniformer_cls.py',
    '../../../configs/_base_/schedules/in1k_adamw_300e.py',
    '../../../configs/_base_/runtime/cls.py',
]

num_classes = 8
image_size = 64
max_epochs = 12
batch_size = 64
data_root = 'data/shapes_cls'  # relative to the working directory (the repository root)

# Model: UniFormer with 1/1/2/1 blocks, dims 32-256 (about 1.5M parameters); strides 4-32
# give 16x16 ... 2x2 feature maps at 64x64. No Mixup/CutMix: too strong for a short run.
model = dict(
    backbone=dict(
        # _delete_: the base names a zoo arch (a str); this replaces it with a dict
        arch=dict(_delete_=True, depths=(1, 1, 2, 1), embed_dims=(32, 64, 128, 256), head_dim=32),
        drop_path_rate=0.0),
    head=dict(num_classes=num_classes, in_channels=256),
    train_cfg=None)

# Data: mmpretrain's CustomDataset on the folder layout DATA_ROOT/{train,val}/<class>/*.png.
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
# Every class is invariant to flips (colours carry no information either); no 90-degree
# rotations, which would swap horizontal and vertical stripes.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
dataset_type = 'CustomDataset'
train_dataloader = dict(
    batch_size=batch_size, num_workers=1,
    persistent_workers=False,  # EpochSeedHook: workers seeded anew every epoch
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train',
                 classes=f'{data_root}/classes.txt', pipeline=train_pipeline))
val_dataloader = dict(
    train_dataloader, batch_size=128, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], data_prefix='val', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# Schedule: the repo's AdamW recipe (no decay on norms/biases), with a larger learning rate
# for the small batch, one warm-up epoch and cosine decay over the short run.
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=batch_size)

# Runtime: log often enough to follow progress; a checkpoint every epoch, only the last kept.
# EpochSeedHook reseeds every epoch, so `--resume` after a kill ends with the same weights,
# bit for bit, as an uninterrupted run (docs/training.md, "Resume and randomness").
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
custom_hooks = [dict(type='mmuniformer.EpochSeedHook')]
