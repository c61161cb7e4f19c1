# UCF101 (split 1) videos for mmaction2's VideoDataset, dense sampling 16x4 as Kinetics:
#   data/ucf101/videos/<class>/<video>.avi, data/ucf101/ucf101_{train,val}_split_1_videos.txt
# (mmaction2's tools/data/ucf101 layout). Set `split` and the annotation files for splits 2-3.
# Train as Kinetics with the released runs' weaker RandAugment (exp/uniformer_s16x4_ucf101_
# prek400/config.yaml, AA_TYPE rand-m5-n2: 2 ops at magnitude 5), two augmented samples per
# decoded clip; val as Kinetics; test 3 crops x 5 clips, as the released UCF101/HMDB51 runs
# (TEST.NUM_SPATIAL_CROPS 3, TEST.NUM_ENSEMBLE_VIEWS 5, crop 224).
_base_ = './kinetics400_video.py'
split = 1
data_root = 'data/ucf101/videos'
data_root_val = 'data/ucf101/videos'
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
ann_file_test = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
# the Kinetics pipelines with RandAugment m5-n2 in training, 3 crops x 5 clips in the test
train_pipeline = [
    dict(t, transforms=[dict(a, num_ops=2, magnitude=5) if a.type == 'TorchVisionWrapper' else a
                        for a in t.transforms])
    if t.type == 'mmuniformer.RepeatAug' else t for t in _base_.train_pipeline]
test_pipeline = [
    dict(t, num_clips=5) if t.type == 'SampleFrames' else
    dict(type='ThreeCrop', crop_size=224) if t.type == 'CenterCrop' else t
    for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root),
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_test, data_prefix=dict(video=data_root_val),
                                    pipeline=test_pipeline))
