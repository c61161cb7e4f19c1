# UniFormer-S (token labeling) fine-tuned at 384 (paper 84.6 top-1), as
# exp/uniformer_small_tl_384/run.sh of the official release: from the 224 token-labeling model,
# token-label maps 12x12, constant lr 5e-6 at batch 512, wd 1e-8, no warm-up, 50 + 10
# cool-down epochs, no EMA (schedule: ../_base_/schedules/in1k_tl_finetune_60e.py).
_base_ = [
    '../_base_/models/uniformer_tl.py',
    '../_base_/datasets/in1k_token_label_224.py',
    '../_base_/schedules/in1k_tl_finetune_60e.py',
    '../_base_/runtime/cls.py',
]
image_size = 384
label_size = 12
# the 224 token-labeling model. mmengine's checkpoint 'state_dict' holds the EMA weights; the
# released script loads the raw weights (--finetune without --model-ema)
load_from = 'work_dirs/uniformer_s_tl_in1k/epoch_310.pth'
model = dict(backbone=dict(arch='small_tl', drop_path_rate=0.1), head=dict(in_channels=512))
# the token-labeling pipeline of the base at 384 with 12x12 label maps
train_pipeline = [
    dict(t, scale=image_size, label_size=label_size)
    if t.type == 'mmuniformer.TokenLabelRandomResizedCrop' else t for t in _base_.train_pipeline]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=438, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
# 8 GPUs x 64 images (run.sh --batch-size 64)
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
