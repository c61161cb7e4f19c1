# HMDB51 (split 1) videos, the UCF101 pipelines (16x4 dense sampling, 3 crops x 5 clips test):
#   data/hmdb51/videos/<class>/<video>.avi, data/hmdb51/hmdb51_{train,val}_split_1_videos.txt
_base_ = './ucf101_video.py'
split = 1
data_root = 'data/hmdb51/videos'
data_root_val = 'data/hmdb51/videos'
ann_file_train = f'data/hmdb51/hmdb51_train_split_{split}_videos.txt'
ann_file_val = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
ann_file_test = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root_val)))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_test, data_prefix=dict(video=data_root_val)))
