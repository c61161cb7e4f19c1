# UniFormer-S top-down heatmap pose estimation, 384x288 input, COCO keypoints
# (pose_estimation/exp/top_down_384x288_global_small). Official: 75.9 AP on COCO val2017 with
# detected person boxes, 11.1 GFLOPs. Heatmaps 96x72, sigma 3; otherwise as 256x192 (drop
# path 0.2, AdamW 2e-3, total batch 1024 = 8 x 128).
_base_ = ['./topdown_uniformer_s_256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
model = dict(head=dict(decoder=codec))
# the pipelines of the base with this codec
train_pipeline, val_pipeline = (
    [dict(t, input_size=codec['input_size']) if t.type == 'TopdownAffine' else
     dict(t, encoder=codec) if t.type == 'GenerateTarget' else t for t in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
