# Detection quick start: a tiny UniFormer Mask R-CNN trained from scratch on the embedded
# `shapes_coco` data (4 categories of shapes with polygon masks, 1-4 per 96x128 image, made
# by ../tools/data/make_coco_instances.py), evaluated with mmdet's CocoMetric (box and mask mAP).
# Sized to train on 2 CPU cores in a few minutes; run it from the repository root:
#
#   python projects/quickstart/tools/data/make_coco_instances.py --out data/shapes_coco
#   mim train mmdet projects/quickstart/configs/mask_rcnn_uniformer_tiny_shapes_coco.py \
#       --work-dir work_dirs/quickstart_det
#   mim test mmdet projects/quickstart/configs/mask_rcnn_uniformer_tiny_shapes_coco.py \
#       --checkpoint work_dirs/quickstart_det/epoch_8.pth
#
# or all of it with `bash tools/quickstart.sh --task det`. The test split is the val split.
#
# As the COCO configs start from an ImageNet checkpoint, the backbone starts from the
# classification quick start's checkpoint (`pretrained`; same tiny arch, trained on
# `shapes_cls`): `bash tools/quickstart.sh --task det` trains that first when it is missing.
# `pretrained = None` trains from scratch. Measured on 2 CPU cores: 63.2 box / 52.5 mask mAP
# (untrained 0.0 / 0.0) in about 6 minutes (see the README's detection quick start).
_base_ = [
    '../../../configs/_base_/models/mask_rcnn_uniformer_fpn.py',
    '../../../configs/_base_/runtime/det.py',
]

classes = ('circle', 'triangle', 'square', 'star')
num_classes = len(classes)
max_epochs = 8
pretrained = 'work_dirs/quickstart/cls/epoch_12.pth'  # the cls quick start's last checkpoint
batch_size = 4
data_root = 'data/shapes_coco/'  # relative to the working directory (the repository root)
width = 64  # channels of the FPN and of the RoI heads (256 in the COCO models)
# GroupNorm in the FPN and the RoI heads, as mmdet's Mask R-CNN trained from scratch
# (`mask-rcnn_r50-scratch_fpn_gn-all`): 63.2 / 52.5 mAP here, against 55.9 / 46.5 with mmdet's
# norm-free FPN, 2-fc box head and mask head (same data, schedule and seed).
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)

# Model: UniFormer with 1/1/2/1 blocks, dims 32-256 (as the classification quick start); stage 3
# hybrid with 4x4 windows, its second block global (the 6x8 stage-3 map has 4 windows).
# Anchors of 16-256 px (scale 4) for the 12-58 px objects; smaller heads, fewer samples, RoIAlign
# with 2x2 samples per bin (0: adaptive, slow on a CPU for large boxes).
model = dict(
    backbone=dict(
        # _delete_: the base names a zoo arch (a str); this replaces it with a dict
        arch=dict(_delete_=True, depths=(1, 1, 2, 1), embed_dims=(32, 64, 128, 256), head_dim=32),
        window_size=4,
        hybrid_global_every=2,
        drop_path_rate=0.,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained) if pretrained else None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=width, norm_cfg=norm_cfg),
    rpn_head=dict(in_channels=width, feat_channels=width, anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=dict(sampling_ratio=2), out_channels=width),
        bbox_head=dict(
            _delete_=True,
            type='Shared4Conv1FCBBoxHead',
            in_channels=width,
            conv_out_channels=width,
            fc_out_channels=256,
            norm_cfg=norm_cfg,
            roi_feat_size=7,
            num_classes=num_classes,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        mask_roi_extractor=dict(roi_layer=dict(sampling_ratio=2), out_channels=width),
        mask_head=dict(num_convs=2, in_channels=width, conv_out_channels=width,
                       norm_cfg=norm_cfg, num_classes=num_classes)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=20)))

# Data: mmdet's CocoDataset on DATA_ROOT/annotations/instances_{train,val}.json, through
# mmuniformer.CocoDataset, which checks the annotation file first.
metainfo = dict(classes=classes)
# Resize to the generated size (a no-op that records the scale factor mmdet's predictions need).
image_scale = (128, 96)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=batch_size, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type='mmuniformer.CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=4), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='mmuniformer.CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'),
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/instances_val.json',
    metric=['bbox', 'segm'], format_only=False)
test_evaluator = val_evaluator

# Schedule: AdamW (no decay on norms, as the COCO configs) at lr 3e-4 with gradient clipping
# (at 1e-3 the RoI head's ReLU layers died within a few hundred iterations and it stopped
# learning), 100 warm-up iterations, lr x0.1 after epoch 7; full precision (CPU).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}),
    constructor='mmuniformer.QuietOptimWrapperConstructor',  # paramwise_cfg: one log line
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[7], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)

# Runtime: log often enough to follow progress, keep only the last checkpoint.
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
