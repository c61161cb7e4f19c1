# UniFormer-S, 16 frames one every 8th, on Kinetics-400, from inflated ImageNet-1K weights.
# Official: 80.8 top-1 with 1 crop x 4 clips (167 GFLOPs); recipe as 16x4 (released run:
# video_classification/exp/uniformer_s16x8_k400/run.sh).
_base_ = './uniformer_s_16x4_k400.py'
# the Kinetics-400 pipelines of the base with the frame sampler changed
sampling = dict(frame_interval=8)
train_pipeline, val_pipeline, test_pipeline = (
    [dict(t, **sampling) if t.type == 'SampleFrames' else t for t in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=p)) for p in (train_pipeline, val_pipeline, test_pipeline))
