# Quick start (video): a tiny 3-D UniFormer trained from scratch with mmaction2 on the embedded
# `motion_video` data (8 classes that differ only in how a random scene of polygons moves:
# left, right, up, down, grows, shrinks, rotates clockwise / counter-clockwise; 32 frames of
# 64x64, made by ../tools/data/make_motion_video.py). Single frames carry no information about the
# class (tests/test_data/test_motion_data.py): the model has to use time. Sized to train on 2
# CPU cores in a few minutes; from the repository root:
#
#   python projects/quickstart/tools/data/make_motion_video.py --out data/motion_video
#   mim train mmaction2 projects/quickstart/configs/uniformer_tiny_motion.py \
#       --work-dir work_dirs/quickstart/video
#   mim test mmaction2 projects/quickstart/configs/uniformer_tiny_motion.py \
#       --checkpoint work_dirs/quickstart/video/epoch_5.pth --work-dir work_dirs/quickstart/video
#
# or all of it with `bash tools/quickstart.sh --task video`. The test split is the generated
# val split.
_base_ = [
    '../../../configs/_base_/models/uniformer_video.py',
    '../../../configs/_base_/runtime/video.py',
]

num_classes = 8
num_frames = 8
frame_interval = 3
max_epochs = 5
batch_size = 16
data_root = 'data/motion_video'  # relative to the working directory (the repository root)
# labels of ../tools/data/make_motion_video.py CLASSES ('grow', 'move_down', 'move_left',
# 'move_right', 'move_up', 'rotate_ccw', 'rotate_cw', 'shrink') swapped by the flips
hflip_label_map = {2: 3, 3: 2, 5: 6, 6: 5}  # left <-> right, ccw <-> cw
vflip_label_map = {1: 4, 4: 1, 5: 6, 6: 5}  # down <-> up, ccw <-> cw

# Model: a 3-D UniFormer with 1/1/2/1 blocks, dims 32-256, head dim 32 (about 1.5M
# parameters). 8 frames of 64x64 -> stage 1: 4 x 16 x 16 tokens (the stage-1 embedding halves
# time) ... stage 4: 4 x 2 x 2. No Mixup/CutMix or label smoothing: too strong for a short run.
model = dict(
    backbone=dict(
        # _delete_: the base names a zoo arch (a str); this replaces it with a dict
        arch=dict(_delete_=True, depths=(1, 1, 2, 1), embed_dims=(32, 64, 128, 256),
                  head_dim=32),
        drop_path_rate=0.0),
    cls_head=dict(num_classes=num_classes, in_channels=256, dropout_ratio=0.2,
                  label_smooth_eps=0.0),
    data_preprocessor=dict(blending=None))

# Data: mmaction2's VideoDataset on DATA_ROOT/{train,val}_list.txt. Dense sampling of 8 frames,
# one every 3rd (a random start in training, the centre clip in testing), at the full 64x64.
# Horizontal and vertical flips are the only augmentation; they relabel the classes they mirror
# (../tools/data/make_motion_video.py flip_label_map()).
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Flip', flip_ratio=0.5, direction='horizontal', flip_label_map=hflip_label_map),
    dict(type='Flip', flip_ratio=0.5, direction='vertical', flip_label_map=vflip_label_map),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# test: the centre clip, no flips
test_pipeline = [dict(t, test_mode=True) if t['type'] == 'SampleFrames' else t
                 for t in train_pipeline if t['type'] != 'Flip']
dataset_type = 'VideoDataset'
train_dataloader = dict(
    batch_size=batch_size, num_workers=1,
    persistent_workers=False,  # EpochSeedHook: workers seeded anew every epoch
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/train_list.txt',
                 data_prefix=dict(video=f'{data_root}/train'), pipeline=train_pipeline))
val_dataloader = dict(
    train_dataloader, batch_size=64, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file=f'{data_root}/val_list.txt',
                 data_prefix=dict(video=f'{data_root}/val'), pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

# Schedule: AdamW (no decay on norms/biases), one warm-up epoch, cosine decay over the run
# (100 videos per class / batch 16 = 50 iterations per epoch; 250 in all).
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
    constructor='mmuniformer.QuietOptimWrapperConstructor')  # paramwise_cfg: one log line
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)

# Runtime: log often enough to follow progress; a checkpoint every epoch, only the last kept.
# EpochSeedHook reseeds every epoch, so `--resume` after a kill ends with the same weights,
# bit for bit, as an uninterrupted run (docs/training.md, "Resume and randomness").
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=1,
                    save_best=None))
randomness = dict(seed=0, deterministic=False)
custom_hooks = [dict(type='mmuniformer.EpochSeedHook')]
