# UniFormer-B, 8 frames one every 8th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 79.8 top-1 with 1 crop x 4 clips (161 GFLOPs); released run:
# video_classification/exp/uniformer_b8x8_k400/run.sh (lr 2e-4 for 64 videos = 1e-4 per 32,
# drop path 0.3, 100 epochs).
_base_ = './uniformer_s_8x8_k400.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_base_in1k.pth')))
