# UniFormer-S, 16 frames one every 4th, on HMDB51 (split 1), fine-tuned from a Kinetics-400
# UniFormer-S 16x4. Paper Table 6: 76.9 top-1 (the released runs test 3 crops x 5 clips).
# Released run video_classification/exp/uniformer_s16x4_hmdb51_prek400/run.sh and config.yaml:
# the UCF101 recipe and pipelines (uniformer_s_16x4_ucf101.py: lr 1.25e-5 per 32 videos, 5
# warm-up + 25 epochs, drop path 0.2, the same Kinetics-400 `load_from`, whose 400-class head
# does not fit the 51 classes and is skipped with a warning) on HMDB51 videos:
#   data/hmdb51/videos/<class>/<video>.avi, data/hmdb51/hmdb51_{train,val}_split_1_videos.txt
# (mmaction2's tools/data/hmdb51 layout). Set `split` and the annotation files for splits 2-3.
_base_ = ['./uniformer_s_16x4_ucf101.py']
split = 1
data_root = 'data/hmdb51/videos'
data_root_val = 'data/hmdb51/videos'
ann_file_train = f'data/hmdb51/hmdb51_train_split_{split}_videos.txt'
ann_file_val = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
ann_file_test = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(ann_file=ann_file, data_prefix=dict(video=root)))
    for ann_file, root in ((ann_file_train, data_root), (ann_file_val, data_root_val),
                           (ann_file_test, data_root_val)))
num_classes = 51
model = dict(
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(blend, num_classes=num_classes)
        for blend in _base_.model.data_preprocessor.blending.augments])))
