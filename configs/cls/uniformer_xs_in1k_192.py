# UniFormer-XS (lightweight hourglass H-UniFormer) on ImageNet-1K, trained and tested at 192
# (16.51M params and 1.42 GFLOPs by fvcore on the official implementation; paper Table 11:
# 16.5M, 1.4 GFLOPs, 81.5 top-1).
# The recipe of uniformer_xxs_in1k_160.py (600 epochs, EMA, full precision) with drop path 0.1.
# The released official run (image_classification/exp_light/xs_192/run.sh) uses the same
# recipe except 30 warm-up epochs.
_base_ = ['./uniformer_xxs_in1k_160.py']
image_size = 192
model = dict(backbone=dict(arch='xs', drop_path_rate=0.1), head=dict(in_channels=512))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675],
         fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # DeiT evaluation: short side to size / 0.875 (int(192 / 0.875) = 219), centre crop.
    dict(type='ResizeEdge', scale=int(image_size / 0.875), edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
