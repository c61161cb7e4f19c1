# UniFormer-B, 32 uniformly sampled frames, on Something-Something V1 (JPEG frames), fine-tuned
# from the Kinetics-400 UniFormer-B 16x4. Official: 60.9 top-1 with 3 crops x 1 clip (777
# GFLOPs). Released run video_classification/exp/uniformer_b32_sthv1_prek400/run.sh and its
# config.yaml: lr 2e-4 per 32 videos, 5 warm-up + 60 epochs (the paper's text says 50), drop
# path 0.6, no flip, initialised from `uniformer_base_k400_16x4` (PRETRAIN_NAME; the temporal
# kernels do not depend on the frame count).
# `load_from` is a Kinetics-400 checkpoint in this repository's format: one trained with
# configs/video/uniformer_b_16x4_k400.py, or the official K400 model converted with
#   python tools/convert_official.py uniformer_base_k400_16x4.pth \
#       checkpoints/uniformer_b_16x4_k400.pth --config configs/video/uniformer_b_16x4_k400.py
# Its 400-class head does not fit the 174 classes and is skipped with a warning.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/sthv1_rawframes.py',
    '../_base_/schedules/video_adamw_60e.py',
    '../_base_/runtime/video.py',
]
num_classes = 174
model = dict(
    backbone=dict(arch='base', drop_path_rate=0.6),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(blend, num_classes=num_classes)
        for blend in _base_.model.data_preprocessor.blending.augments])))
load_from = 'checkpoints/uniformer_b_16x4_k400.pth'
# the Something-Something V1 pipelines with 32 frames
sampling = dict(clip_len=32)
train_pipeline, val_pipeline, test_pipeline = (
    [dict(t, **sampling) if t.type == 'UniformSample' else t for t in pipeline]
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=p)) for p in (train_pipeline, val_pipeline, test_pipeline))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
