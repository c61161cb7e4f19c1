# UniFormer-B, 16 frames one every 4th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 82.0 top-1 with 1 crop x 4 clips (387 GFLOPs = 4 x 96.7). The UniFormer-S recipe
# with drop path 0.3 (released run: video_classification/exp/uniformer_b16x4_k400/run.sh,
# UNIFORMER.DROP_DEPTH_RATE 0.3; lr 1.25e-4 for 40 videos = 1e-4 per 32).
_base_ = './uniformer_s_16x4_k400.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_base_in1k.pth')))
