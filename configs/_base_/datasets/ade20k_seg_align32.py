# ADE20K (mmseg's ADE20KDataset at data/ade/ADEChallengeData2016, 150 classes, label 0 ignored)
# as mmseg's own base: training resizes to scale (2048, 512) x [0.5, 2.0], crops 512x512
# (at most 75% one class), flips and distorts photometrically; testing resizes the short side to
# 512 (long side at most 2048). The released Semantic FPN configs (fpn_seg/configs/_base_/
# datasets/ade20k.py, `AlignResize`) then resize the test image to a multiple of 32 (rounding up)
# instead of padding: `ResizeToMultiple` does the same. The metric is computed at the original size.
_base_ = ['mmseg::_base_/datasets/ade20k.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
