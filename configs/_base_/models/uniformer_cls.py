# UniFormer image classifier for mmpretrain: backbone -> global average pool -> linear head.
# DeiT-style training: label smoothing 0.1, Mixup 0.8 / CutMix 1.0 as batch augments.
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmuniformer.UniFormer', arch='small', out_indices=(3, ), out_norm='bn',
                  drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=512,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
