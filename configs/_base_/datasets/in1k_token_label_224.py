# ImageNet-1K with token labels (score maps provided by the user; file format in README
# "Token labeling"). Training augmentation in the order of the released code (Sense-X/UniFormer
# image_classification/token_labeling/tlt/data/label_transforms_factory.py): flip, RandAugment
# "rand-m9-mstd0.5-inc1" whose geometric ops warp the label map with the image
# (tlt/data/random_augment_label.py), random resized crop that turns the map into the crop's
# targets (tlt/data/mixup.py get_label), random erasing 0.25.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'
data_root = 'data/imagenet/'
token_label_root = 'data/imagenet_token_label/train'
image_size = 224
label_size = 7  # token grid of the last stage: image_size / 32
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
# timm's increasing RandAugment op set (main.py --aa rand-m9-mstd0.5-inc1), the geometric ops
# label-aware; each op applies with probability 0.5, two ops drawn per image
rand_augment_policies = [
    dict(type='AutoContrast'),
    dict(type='Equalize'),
    dict(type='Invert'),
    dict(type='mmuniformer.TokenLabelRotate', magnitude_range=(0, 30)),
    dict(type='Posterize', magnitude_range=(4, 0)),
    dict(type='Solarize', magnitude_range=(256, 0)),
    dict(type='SolarizeAdd', magnitude_range=(0, 110)),
    dict(type='ColorTransform', magnitude_range=(0, 0.9)),
    dict(type='Contrast', magnitude_range=(0, 0.9)),
    dict(type='Brightness', magnitude_range=(0, 0.9)),
    dict(type='Sharpness', magnitude_range=(0, 0.9)),
    dict(type='mmuniformer.TokenLabelShear', magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type='mmuniformer.TokenLabelShear', magnitude_range=(0, 0.3), direction='vertical'),
    dict(type='mmuniformer.TokenLabelTranslate', magnitude_range=(0, 0.45), direction='horizontal'),
    dict(type='mmuniformer.TokenLabelTranslate', magnitude_range=(0, 0.45), direction='vertical'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmuniformer.LoadTokenLabel', label_root=token_label_root,
         data_prefix=data_root + 'train', num_classes=1000),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmuniformer.TokenLabelFlip'),
    # interpolation: bicubic (the official --train-interpolation 'random' picks bilinear or bicubic)
    dict(type='RandAugment', policies=rand_augment_policies, num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='mmuniformer.TokenLabelRandomResizedCrop', scale=image_size, label_size=label_size,
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=bgr_mean, fill_std=bgr_std),
    dict(type='PackInputs', algorithm_keys=['token_label', 'token_label_cls']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
