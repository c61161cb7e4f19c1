# UniFormer-B, 32 frames one every 4th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 82.9 top-1 with 1 crop x 4 clips (1036 GFLOPs = 4 x 258.6). Drop path 0.3
# (released run: video_classification/exp/uniformer_b32x4_k400/run.sh).
_base_ = './uniformer_s_32x4_k400.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_base_in1k.pth')))
