# UniFormer-S top-down heatmap pose estimation, 448x320 input, COCO keypoints
# (pose_estimation/exp/top_down_448x320_global_small). Official: 76.2 AP on COCO val2017 with
# detected person boxes, 14.8 GFLOPs. Heatmaps 112x80, sigma 3; drop path 0.2; AdamW 1e-3 at a
# total batch of 512 (8 x 64).
_base_ = ['./topdown_uniformer_s_256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(320, 448), heatmap_size=(80, 112), sigma=3)
model = dict(head=dict(decoder=codec))
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
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(base_batch_size=512)
