# COCO keypoints (person, 17 keypoints) for top-down pose estimation with mmpose 1.x, as the
# released pose configs (pose_estimation/exp/top_down_*/config.py): train2017 with random flip,
# half-body crops (probability 0.3), random scale 0.5-1.5 and rotation (probability 0.6, up to
# 80 degrees) without box shifts; val2017 evaluated with mmpose's CocoMetric (OKS NMS 0.9,
# keypoint score threshold 0.2) on the person boxes of `bbox_file`.
# `bbox_file`: the person detection results the released models are evaluated on (the
# released data_cfg: detector AP 56 on COCO val2017, from mmpose's data preparation guide).
# Set both loaders' `dataset.bbox_file=None` to evaluate on the ground-truth boxes instead:
#   --cfg-options val_dataloader.dataset.bbox_file=None test_dataloader.dataset.bbox_file=None
# The pipelines hold the 256x192 codec of the model base (input 192x256, heatmaps 48x64,
# sigma 2); the 384x288 and 448x320 configs replace them.
data_root = 'data/coco/'
bbox_file = 'data/coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json'
# top level as in mmpose's own configs: its inferencers read both from here
dataset_type = 'CocoDataset'
data_mode = 'topdown'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform', shift_prob=0.),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(
        type='GenerateTarget',
        encoder=dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file=bbox_file,
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
