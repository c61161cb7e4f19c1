# UniFormer-S top-down heatmap pose estimation, 256x192 input, COCO keypoints
# (pose_estimation/exp/top_down_256x192_global_small). Official: 74.0 AP on COCO val2017 with
# detected person boxes, 4.7 GFLOPs. Drop path 0.2; AdamW 2e-3, total batch 1024 (8 x 128).
# The backbone starts from the official ImageNet-1K UniFormer-S checkpoint at `pretrained`.
_base_ = [
    '../_base_/models/pose_topdown_uniformer.py',
    '../_base_/datasets/pose_coco_keypoints.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
pretrained = 'checkpoints/uniformer_small_in1k.pth'
model = dict(
    backbone=dict(
        arch='small', drop_path_rate=0.2, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
