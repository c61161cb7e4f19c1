# Something-Something V2 videos for mmaction2's VideoDataset (mmaction2's tools/data/sthv2
# layout): data/sthv2/videos/<id>.webm, data/sthv2/sthv2_{train,val}_list_videos.txt.
# Uniform (TSN-style) sampling of 16 frames: the video is cut into 16 equal segments and one
# frame is taken from each (random in training, fixed in testing). No horizontal flip: it would
# turn "left to right" into "right to left" (paper section 6.2). Otherwise the Kinetics
# training augmentation (RandAugment m7-n4, random resized crop, random erasing 0.25), each
# decoded clip augmented twice (the released `AUG.NUM_SAMPLE: 2`, see kinetics400_video.py).
# Test: 3 crops x 1 clip (multi-crop testing for Something-Something, paper section 6.2):
# short side 224, left/centre/right 224 crops, as the released test.sh (crop 224, 3 crops).
dataset_type = 'VideoDataset'
data_root = 'data/sthv2/videos'
data_root_val = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=16, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='mmuniformer.RepeatAug', num_repeats=2, transforms=[
        dict(type='Resize', scale=(-1, 256)),
        dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7,
             num_magnitude_bins=11),
        dict(type='RandomResizedCrop', area_range=(0.08, 1.0),
             aspect_ratio_range=(3 / 4, 4 / 3)),
        dict(type='Resize', scale=(224, 224), keep_ratio=False),
        dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

# 8 GPUs x 4 videos = 32, the batch of the paper's learning-rate rule (see the schedule)
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
