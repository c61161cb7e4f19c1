# Lightweight hourglass UniFormer (H-UniFormer XXS / XS) image classifier for mmpretrain:
# backbone with a score token -> final BatchNorm -> a linear head on the pooled map plus a
# linear head on the score token. Training loss 0.5 * CE(pooled head) + 0.5 * CE(score-token
# head) (official image_classification/engine_light.py); inference uses the pooled head only.
# DeiT-style training: label smoothing 0.1, Mixup 0.8 / CutMix 1.0 as batch augments.
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmuniformer.UniFormerLight', arch='xxs', out_indices=(3, ), out_norm='bn',
                  out_score_token=True, drop_path_rate=0.0),
    neck=None,
    head=dict(
        type='mmuniformer.UniFormerLightClsHead',
        num_classes=1000,
        in_channels=448,
        loss_weights=(0.5, 0.5),
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
