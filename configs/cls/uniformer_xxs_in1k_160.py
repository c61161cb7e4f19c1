# UniFormer-XXS (lightweight hourglass H-UniFormer) on ImageNet-1K, trained and tested at 160
# (10.22M params and 0.66 GFLOPs by fvcore on the official implementation; paper Table 11:
# 10.2M, 0.67 GFLOPs, 79.1 top-1).
# The paper's DeiT recipe (AdamW lr 1e-3 at batch 1024, wd 0.05, cosine, 5 warm-up epochs,
# RandAugment, Mixup 0.8 / CutMix 1.0, random erasing 0.25, label smoothing 0.1) for 600 epochs,
# with an EMA of the weights and without mixed precision (the light models diverge under AMP).
# The released official run (image_classification/exp_light/xxs_160/run.sh) differs in: lr 4e-4
# per 512 images, wd 0.1, AutoAugment v0 instead of RandAugment, 30 warm-up epochs, no drop
# path. Drop path follows that run (0.0, the base's value): the paper gives no value for XXS.
_base_ = [
    '../_base_/models/uniformer_light_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/in1k_adamw_300e.py',
    '../_base_/runtime/cls.py',
]
image_size = 160
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
    # DeiT evaluation: short side to size / 0.875 (int(160 / 0.875) = 182), centre crop.
    dict(type='ResizeEdge', scale=int(image_size / 0.875), edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Full precision: a plain OptimWrapper (do not train these models with --amp).
optim_wrapper = dict(type='OptimWrapper')
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5, end=600),
]
train_cfg = dict(max_epochs=600)
# EMA of the weights, updated every iteration (official decay 0.9999 = momentum 1e-4);
# validation and checkpoints use the averaged model.
custom_hooks = [dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL')]
