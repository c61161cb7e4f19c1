# Segmentation quick start: Semantic FPN on a tiny UniFormer trained from scratch on the
# embedded `shapes_ade` data (ADE20K layout; 3 background textures and 3 shapes, label 0 ignored,
# 128x128 images, made by ../tools/data/make_ade_seg.py), evaluated with mmseg's IoUMetric (mIoU).
# Sized to train on 2 CPU cores in a few minutes; run it from the repository root:
#
#   python projects/quickstart/tools/data/make_ade_seg.py --out data/shapes_ade
#   mim train mmsegmentation projects/quickstart/configs/fpn_uniformer_tiny_shapes_ade.py \
#       --work-dir work_dirs/quickstart_seg
#   mim test mmsegmentation projects/quickstart/configs/fpn_uniformer_tiny_shapes_ade.py \
#       --checkpoint work_dirs/quickstart_seg/iter_400.pth
#
# or all of it with `bash tools/quickstart.sh --task seg`. The test split is the validation split.
_base_ = [
    '../../../configs/_base_/models/seg_fpn_uniformer.py',
    'mmseg::_base_/default_runtime.py',
]

classes = ('smooth', 'stripes', 'checker', 'disc', 'triangle', 'square')
max_iters = 400
batch_size = 8
data_root = 'data/shapes_ade'  # relative to the working directory (the repository root)
crop_size = (128, 128)
width = 64  # channels of the FPN (256 in the ADE20K models) and of the FPN head (128)

# Model: UniFormer with 1/1/2/1 blocks, dims 32-256 (as the classification quick start), stage 3
# global; plain BatchNorm in the head (one process).
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        # _delete_: the base names a zoo arch (a str); this replaces it with a dict
        arch=dict(_delete_=True, depths=(1, 1, 2, 1), embed_dims=(32, 64, 128, 256), head_dim=32),
        drop_path_rate=0.),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=width),
    decode_head=dict(in_channels=[width] * 4, channels=width, num_classes=len(classes),
                     norm_cfg=dict(type='BN', requires_grad=True)))

# Data: mmseg's BaseSegDataset on the ADE20K layout (images/*.jpg, annotations/*.png), label 0
# ignored and 1..6 shifted to 0..5 (reduce_zero_label, as ADE20K).
dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=dict(classes=classes),
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mmuniformer.CheckSegLabels', num_classes=len(classes)),  # names bad masks
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=batch_size, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
                 pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'], pipeline=test_pipeline,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# Schedule: AdamW (as the ADE20K Semantic FPN configs) at a larger lr for the short run,
# 50 warm-up iterations, cosine decay; validation at the end.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min_ratio=1e-3, by_epoch=False, begin=0,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)

# Runtime (mmseg's schedule hooks): log often enough to follow progress, keep only the last
# checkpoint.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmuniformer.AtomicCheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
