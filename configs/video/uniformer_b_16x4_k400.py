# UniFormer-B, 16 frames one every 4th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 82.0 top-1 with 1 crop x 4 clips (387 GFLOPs = 4 x 96.7; FACTS: 49.81M params).
# Same recipe as UniFormer-S but drop path 0.2 (paper: doubled for B).
_base_ = './uniformer_s_16x4_k400.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_base_in1k.pth')))
