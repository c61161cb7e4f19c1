# The cls quick start on a light (hourglass, XXS-like) UniFormer, for the kept-token picture.
# Data, schedule and runtime are those of uniformer_tiny_shapes.py; the images (64x64) are
# resized to 128x128, so stage 3 sees 8x8 tokens (the shrinking blocks keep 32 of 64) and
# stage 4 4x4 (8 of 16). Used for the kept-token picture of docs/deployment_and_visualization.md:
#
#   python tools/data/make_shapes_cls.py --out data/shapes_cls
#   mim train mmpretrain projects/quickstart/configs/uniformer_light_tiny_shapes.py \
#       --work-dir work_dirs/quickstart_light
#   python tools/visualize_tokens.py projects/quickstart/configs/uniformer_light_tiny_shapes.py \
#       work_dirs/quickstart_light/epoch_8.pth data/shapes_cls/val/star/star_00000.png \
#       --out tokens.png
_base_ = ['./uniformer_tiny_shapes.py']

image_size = 128
# Light UniFormer with 1/1/3/2 blocks, dims 32-256: stages 3-4 are hourglass blocks (the first
# stage-3 block keeps every token and sets the scores, the other four keep half). Loss as the
# light models': 0.5 * CE(pooled head) + 0.5 * CE(score-token head). No Mixup/CutMix.
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(
        type='mmuniformer.UniFormerLight',
        arch=dict(depths=(1, 1, 3, 2), embed_dims=(32, 64, 128, 256), head_dim=32),
        out_indices=(3, ), out_norm='bn', out_score_token=True, drop_path_rate=0.0),
    neck=None,
    head=dict(
        type='mmuniformer.UniFormerLightClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=256,
        loss_weights=(0.5, 0.5),
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# Schedule: the quick start's, over 8 epochs instead of 12 (each iteration costs about 4x the
# 64x64 one; 8 epochs take ~15 minutes on 2 busy CPU cores).
max_epochs = 8
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
