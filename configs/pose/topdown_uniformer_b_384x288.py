# UniFormer-B top-down heatmap pose estimation, 384x288 input, COCO keypoints
# (pose_estimation/exp/top_down_384x288_global_base). Official: 76.7 AP on COCO val2017 with
# detected person boxes, 14.8 GFLOPs. Heatmaps 96x72, sigma 3; drop path 0.5; AdamW 5e-4 at a
# total batch of 256 (8 x 32).
# The backbone starts from the official ImageNet-1K UniFormer-B checkpoint at `pretrained`.
_base_ = ['./topdown_uniformer_s_384x288.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.5, init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=32)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=256)
