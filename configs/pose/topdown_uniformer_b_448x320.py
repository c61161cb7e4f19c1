# UniFormer-B top-down heatmap pose estimation, 448x320 input, COCO keypoints
# (pose_estimation/exp/top_down_448x320_global_base). Official: 77.4 AP on COCO val2017 with
# detected person boxes, 29.6 GFLOPs. Heatmaps 112x80, sigma 3; drop path 0.55; AdamW 5e-4 at
# a total batch of 256 (8 x 32); a checkpoint every 10 epochs.
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./topdown_uniformer_s_448x320.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.55, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=32)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(checkpoint=dict(interval=10))
