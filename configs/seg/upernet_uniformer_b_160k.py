# UperNet, UniFormer-B, stage 3 global in training and testing, 160k iterations, ADE20K
# (semantic_segmentation/exp/upernet_global_base, tested with test_config_g.py): drop path 0.4,
# gradient checkpointing (released `use_checkpoint=True`), otherwise as
# upernet_uniformer_s_160k.py. Official: 80M params, 1227 GFLOPs at 512x2048, 50.0 mIoU
# (50.8 multi-scale). The backbone starts from the official ImageNet-1K UniFormer-B checkpoint
# at `pretrained`.
_base_ = ['./upernet_uniformer_s_160k.py']
pretrained = 'checkpoints/uniformer_base_in1k.pth'
model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.4, with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
