# COCO instance segmentation with the multi-scale training of the released "3x + MS" configs
# (object_detection/exp/*_3x_ms_*/config.py; the DETR / Sparse R-CNN augmentation): after a
# horizontal flip, either resize to a short side drawn from 480, 512, ..., 800 (long side
# <= 1333), or resize to a short side of 400/500/600, crop a random 384-600 patch and resize
# that to a short side from 480-800. Testing as mmdet's coco_instance.py (1333x800).
_base_ = ['./coco_instance.py']
ms_scales = [(1333, short) for short in range(480, 801, 32)]
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=ms_scales, keep_ratio=True)],
            [
                dict(type='RandomChoiceResize', scales=[(1333, 400), (1333, 500), (1333, 600)],
                     keep_ratio=True),
                dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
                     allow_negative_crop=True),
                dict(type='RandomChoiceResize', scales=ms_scales, keep_ratio=True),
            ],
        ]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
