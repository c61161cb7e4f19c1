# UniFormer-B, 16 frames one every 8th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 81.7 top-1 with 1 crop x 4 clips (387 GFLOPs). Drop path 0.3 (released run:
# video_classification/exp/uniformer_b16x8_k400/run.sh).
_base_ = './uniformer_s_16x8_k400.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_base_in1k.pth')))
