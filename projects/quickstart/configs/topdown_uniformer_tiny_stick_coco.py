# Pose quick start: top-down heatmap pose estimation (mmpose's TopdownPoseEstimator +
# HeatmapHead + MSRAHeatmap codec, as configs/pose/) with a tiny UniFormer trained from
# scratch on the embedded `stick_coco` data (COCO-keypoints format: stick figures with the 17
# COCO keypoints, made by ../tools/data/make_coco_keypoints.py), evaluated with mmpose's
# CocoMetric (keypoint AP by OKS) on the ground-truth person boxes. Sized to train on 2 CPU
# cores in a few minutes; run it from the repository root:
#
#   python projects/quickstart/tools/data/make_coco_keypoints.py --out data/stick_coco
#   mim train mmpose projects/quickstart/configs/topdown_uniformer_tiny_stick_coco.py \
#       --work-dir work_dirs/quickstart_pose
#   mim test mmpose projects/quickstart/configs/topdown_uniformer_tiny_stick_coco.py \
#       --checkpoint work_dirs/quickstart_pose/epoch_20.pth
#
# or all of it with `bash tools/quickstart.sh --task pose`. The test split is the val split.
_base_ = [
    '../../../configs/_base_/models/pose_topdown_uniformer.py',
    '../../../configs/_base_/runtime/pose.py',
]

max_epochs = 20
batch_size = 32
data_root = 'data/stick_coco/'  # relative to the working directory (the repository root)
width = 64  # channels of the head's deconvolutions (256 in the COCO models)
codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)

# Model: UniFormer with 1/1/2/1 blocks, dims 32-256 (as the other quick starts), stage 3
# global, the LayerNorm'd last stage (stride 32) into three deconvolutions of `width` channels.
model = dict(
    backbone=dict(
        # _delete_: the base names a zoo arch (a str); this replaces it with a dict
        arch=dict(_delete_=True, depths=(1, 1, 2, 1), embed_dims=(32, 64, 128, 256), head_dim=32),
        drop_path_rate=0.),
    head=dict(in_channels=256, deconv_out_channels=(width, ) * 3, decoder=codec))

# Data: mmpose's CocoDataset (top-down: one sample per person box) on the generated layout;
# the released augmentation (flip, half body, scale and rotation) at 128x96.
# top level as in mmpose's own configs: its inferencers read both from here
dataset_type = 'CocoDataset'
data_mode = 'topdown'
dataset = dict(type=dataset_type, data_root=data_root, data_mode=data_mode)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform', shift_prob=0.),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=batch_size, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    train_dataloader, batch_size=32, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(train_dataloader['dataset'], ann_file='annotations/person_keypoints_val.json',
                 bbox_file=None,  # ground-truth person boxes
                 data_prefix=dict(img='val/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# Schedule: AdamW (as the COCO configs) at the released lr for a short run, 100 warm-up
# iterations, cosine decay; full precision; validation at the end.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                                        weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min_ratio=1e-2, by_epoch=True, begin=0,
         end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)

# Runtime: log every 10 iterations, keep only the last checkpoint.
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
