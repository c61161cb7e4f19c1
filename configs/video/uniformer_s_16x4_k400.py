# UniFormer-S, 16 frames one every 4th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 80.8 top-1 with 1 crop x 4 clips (167 GFLOPs = 4 x 41.8); released run:
# video_classification/exp/uniformer_s16x4_k400/run.sh (drop path 0.1, 110 epochs).
# The backbone starts from the official ImageNet-1K UniFormer-S checkpoint (2-D kernels
# inflated to 3-D by averaging over time); put it at the path below or override
# `model.backbone.init_cfg.checkpoint`. Batch 8 GPUs x 4 videos = 32 (each augmented twice)
# for lr 1e-4 (`--auto-scale-lr` rescales for other batches).
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/kinetics400_video.py',
    '../_base_/schedules/video_adamw_110e.py',
    '../_base_/runtime/video.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_small_in1k.pth')))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
