# Something-Something V2 videos for mmaction2's VideoDataset (mmaction2's tools/data/sthv2
# layout): data/sthv2/videos/<id>.webm, data/sthv2/sthv2_{train,val}_list_videos.txt; the
# loaders of kinetics400_video.py.
# Uniform (TSN-style) sampling of 16 frames: the video is cut into 16 equal segments and one
# frame is taken from each (random in training, fixed in testing). No horizontal flip: it would
# turn "left to right" into "right to left" (paper section 6.2). Otherwise the Kinetics
# training augmentation (RandAugment m7-n4, random resized crop, random erasing 0.25), each
# decoded clip augmented twice (the released `AUG.NUM_SAMPLE: 2`, see kinetics400_video.py).
# Test: 3 crops x 1 clip (multi-crop testing for Something-Something, paper section 6.2):
# short side 224, left/centre/right 224 crops, as the released test.sh (crop 224, 3 crops).
_base_ = './kinetics400_video.py'
data_root = 'data/sthv2/videos'
data_root_val = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'
# the Kinetics pipelines with uniform sampling for dense, without the flip, 3 crops for the test
train_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1) if t.type == 'SampleFrames' else
    dict(t, transforms=[a for a in t.transforms if a.type != 'Flip'])
    if t.type == 'mmuniformer.RepeatAug' else t for t in _base_.train_pipeline]
val_pipeline = [
    dict(type='UniformSample', clip_len=16, num_clips=1, test_mode=True)
    if t.type == 'SampleFrames' else t for t in _base_.val_pipeline]
test_pipeline = [
    dict(type='ThreeCrop', crop_size=224) if t['type'] == 'CenterCrop' else t for t in val_pipeline]
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root),
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val),
                                   pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(ann_file=ann_file_test, data_prefix=dict(video=data_root_val),
                                    pipeline=test_pipeline))
