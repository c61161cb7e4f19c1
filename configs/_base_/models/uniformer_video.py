# UniFormer video recognizer for mmaction2: 3-D backbone -> final BN3d -> I3DHead (global
# average pool over T, H, W, linear; no dropout: the official video model applies its `head`
# straight to the pooled features, video_classification/slowfast/models/uniformer.py, so the
# config.yaml `MODEL.DROPOUT_RATE: 0.5` is unused there). Inputs (N, C, T, H, W), RGB (the
# video decoders of mmaction2 output RGB), normalised with mean 0.45 / std 0.225 (x255).
# Training as MViT / the released UniFormer configs: Mixup 0.8 / CutMix 1.0 batch blending and
# label smoothing 0.1 (the released `soft_cross_entropy`). Kinetics-400 head; other datasets
# set `num_classes` of the head and of both blendings (they must agree).
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='mmuniformer.UniFormer',
        arch='small',
        ndim=3,
        out_indices=(3, ),
        out_norm='bn',
        out_tuple=False,  # I3DHead takes the (N, 512, T/2, H/32, W/32) tensor itself
        drop_path_rate=0.1,
        inflate='average'),  # 2-D ImageNet kernels -> 3-D, as the official code
    cls_head=dict(
        type='I3DHead',
        in_channels=512,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.,
        init_std=0.02,
        label_smooth_eps=0.1,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW',
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=400),
                dict(type='CutmixBlending', alpha=1.0, num_classes=400),
            ])))
