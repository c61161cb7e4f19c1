# UperNet, UniFormer-S, stage 3 global in training and testing, 160k iterations, ADE20K
# (semantic_segmentation/exp/upernet_global_small, tested with test_config_g.py): drop path 0.25,
# 2 crops per GPU on 8 GPUs. Official: 52M params, 1004 GFLOPs at 512x2048, 47.6 mIoU
# (48.5 multi-scale). The backbone starts from the official ImageNet-1K UniFormer-S checkpoint:
# put it at `pretrained` (or override model.backbone.init_cfg.checkpoint).
_base_ = [
    '../_base_/models/seg_upernet_uniformer.py',
    'mmseg::_base_/datasets/ade20k.py',
    '../_base_/schedules/seg_upernet_adamw_160k.py',
    'mmseg::_base_/default_runtime.py',
]
pretrained = 'checkpoints/uniformer_small_in1k.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=2)
