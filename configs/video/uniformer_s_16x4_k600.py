# UniFormer-S, 16 frames one every 4th, on Kinetics-600, from inflated ImageNet-1K weights.
# Official: 82.8 top-1 with 1 crop x 4 clips. The Kinetics-400 recipe (released run:
# video_classification/exp/uniformer_s16x4_k600/run.sh: lr 3e-4 for 96 videos = 1e-4 per
# 32, 110 epochs, 10 warm-up, drop path 0.1) on Kinetics-600 data with a 600-class head.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/kinetics600_video.py',
    '../_base_/schedules/video_adamw_110e.py',
    '../_base_/runtime/video.py',
]
num_classes = 600
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_small_in1k.pth')),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(blend, num_classes=num_classes)
        for blend in _base_.model.data_preprocessor.blending.augments])))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
