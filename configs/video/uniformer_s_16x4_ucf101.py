# UniFormer-S, 16 frames one every 4th, on UCF101 (split 1), fine-tuned from a Kinetics-400
# UniFormer-S 16x4. Paper Table 6: 98.1 top-1 (the released runs test 3 crops x 5 clips).
# Released run video_classification/exp/uniformer_s16x4_ucf101_prek400/run.sh and config.yaml:
# lr 1.25e-5 per 32 videos, 5 warm-up + 25 epochs (the paper's text: 1e-5, 20), drop path 0.2.
# `load_from` is a Kinetics-400 checkpoint in this repository's format: one trained with
# configs/video/uniformer_s_16x4_k400.py, or the official K400 model converted with
#   python tools/convert_official.py uniformer_small_k400_16x4.pth \
#       checkpoints/uniformer_s_16x4_k400.pth --config configs/video/uniformer_s_16x4_k400.py
# Its 400-class head does not fit the 101 classes and is skipped with a warning.
_base_ = [
    '../_base_/models/uniformer_video.py',
    '../_base_/datasets/ucf101_video.py',
    '../_base_/schedules/video_adamw_25e.py',
    '../_base_/runtime/video.py',
]
num_classes = 101
model = dict(
    backbone=dict(drop_path_rate=0.2),
    cls_head=dict(num_classes=num_classes),
    data_preprocessor=dict(blending=dict(augments=[
        dict(blend, num_classes=num_classes)
        for blend in _base_.model.data_preprocessor.blending.augments])))
load_from = 'checkpoints/uniformer_s_16x4_k400.pth'
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3), logger=dict(interval=20))
