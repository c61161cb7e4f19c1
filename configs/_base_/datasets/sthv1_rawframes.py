# Something-Something V1 as extracted JPEG frames for mmaction2's RawframeDataset (the
# dataset is released as frames; mmaction2's tools/data/sthv1 layout):
#   data/sthv1/rawframes/<id>/00001.jpg ..., data/sthv1/sthv1_{train,val}_list_rawframes.txt
# with annotation lines `<id> <total_frames> <label>`. Uniform sampling, no flip and the
# Something-Something V2 augmentation (two augmented samples per decoded clip) and 3 crops x
# 1 clip test (see sthv2_video.py). One sample per clip:
#   --cfg-options train_dataloader.dataset.pipeline.2.num_repeats=1
dataset_type = 'RawframeDataset'
filename_tmpl = '{:05}.jpg'
data_root = 'data/sthv1/rawframes'
data_root_val = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
ann_file_test = 'data/sthv1/sthv1_val_list_rawframes.txt'

train_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1),
    dict(type='RawFrameDecode'),
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
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root_val),
        filename_tmpl=filename_tmpl,
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
        data_prefix=dict(img=data_root_val),
        filename_tmpl=filename_tmpl,
        pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
