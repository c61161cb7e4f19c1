# UniFormer-S, 16 uniformly sampled frames, on Something-Something V2, fine-tuned from a
# Kinetics-400 UniFormer-S 16x4. Official: 67.7 top-1 with 3 crops x 1 clip (125 GFLOPs).
# Released run video_classification/exp/uniformer_s16_sthv2_prek400/run.sh: lr 2e-4 per 32
# videos, 5 warm-up + 50 epochs, drop path 0.3, no flip.
# `load_from` is a Kinetics-400 checkpoint in this repository's format: one trained with
# configs/video/uniformer_s_16x4_k400.py, or the official K400 model converted with
#   python tools/convert_official.py uniformer_small_k400_16x4.pth \
#       checkpoints/uniformer_s_16x4_k400.pth --config configs/video/uniformer_s_16x4_k400.py
# Its 400-class head does not fit the 174 classes and is skipped with a warning (the new head
# starts from its initialisation); the backbone is loaded whole.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/sthv2_video.py',
    '../_base_/schedules/video_adamw_50e.py',
    '../_base_/runtime/video.py',
]
num_classes = 174
model = dict(
    backbone=dict(drop_path_rate=0.3),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(blend, num_classes=num_classes)
        for blend in _base_.model.data_preprocessor.blending.augments])))
load_from = 'checkpoints/uniformer_s_16x4_k400.pth'
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=50))
