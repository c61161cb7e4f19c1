# UniFormer-S, 8 frames one every 8th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 78.4 top-1 with 1 crop x 4 clips (70 GFLOPs); released run:
# video_classification/exp/uniformer_s8x8_k400/run.sh (lr 4e-4 for 128 videos = 1e-4 per
# 32, drop path 0.1, 100 epochs: the 8x8 runs train 10 epochs less than the others).
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/kinetics400_video.py',
    '../_base_/schedules/video_adamw_100e.py',
    'mmaction::_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uniformer_small_in1k.pth')))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
# the Kinetics-400 pipelines with the frame sampler changed
sampling = dict(clip_len=8, frame_interval=8)
train_pipeline = [dict(t, **sampling) if t.type == 'SampleFrames' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, **sampling) if t.type == 'SampleFrames' else t
                for t in _base_.val_pipeline]
test_pipeline = [dict(t, **sampling) if t.type == 'SampleFrames' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
