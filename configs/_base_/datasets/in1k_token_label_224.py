# ImageNet-1K with token labels (dense label maps provided by the user; file format in
# README "Token labeling"). DeiT-style augmentation; RandAugment keeps to photometric
# operations because the label maps are aligned only through crop and flip.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'
data_root = 'data/imagenet/'
token_label_root = 'data/imagenet_token_label/train'
image_size = 224
label_size = 7  # token grid of the last stage: image_size / 32
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
photometric_policies = [
    dict(type='AutoContrast'),
    dict(type='Equalize'),
    dict(type='Invert'),
    dict(type='Posterize', magnitude_range=(4, 0)),
    dict(type='Solarize', magnitude_range=(256, 0)),
    dict(type='SolarizeAdd', magnitude_range=(0, 110)),
    dict(type='ColorTransform', magnitude_range=(0, 0.9)),
    dict(type='Contrast', magnitude_range=(0, 0.9)),
    dict(type='Brightness', magnitude_range=(0, 0.9)),
    dict(type='Sharpness', magnitude_range=(0, 0.9)),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmuniformer.LoadTokenLabel', label_root=token_label_root,
         data_prefix=data_root + 'train', num_classes=1000),
    dict(type='mmuniformer.TokenLabelRandomResizedCrop', scale=image_size, label_size=label_size,
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmuniformer.TokenLabelFlip'),
    dict(type='RandAugment', policies=photometric_policies, num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=bgr_mean, fill_std=bgr_std),
    dict(type='PackInputs', algorithm_keys=['token_label']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
