# UniFormer-S top-down heatmap pose estimation, 448x320 input, COCO keypoints
# (pose_estimation/exp/top_down_448x320_global_small). Official: 76.2 AP on COCO val2017 with
# detected person boxes, 14.8 GFLOPs. Heatmaps 112x80, sigma 3; drop path 0.2; AdamW 1e-3 at a
# total batch of 512 (8 x 64).
_base_ = ['./topdown_uniformer_s_256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(320, 448), heatmap_size=(80, 112), sigma=3)
model = dict(head=dict(decoder=codec))
# the pipelines of the base with this codec
train_pipeline, val_pipeline = (
    [dict(t, input_size=codec['input_size']) if t.type == 'TopdownAffine' else
     dict(t, encoder=codec) if t.type == 'GenerateTarget' else t for t in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline))
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(base_batch_size=512)
