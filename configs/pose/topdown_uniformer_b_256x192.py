# UniFormer-B top-down heatmap pose estimation, 256x192 input, COCO keypoints
# (pose_estimation/exp/top_down_256x192_global_base). Official: 75.0 AP on COCO val2017 with
# detected person boxes, 9.2 GFLOPs. Drop path 0.4; AdamW 2e-3, total batch 1024 (8 x 128).
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./topdown_uniformer_s_256x192.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.4, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
