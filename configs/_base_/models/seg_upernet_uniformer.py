# UperNet on a UniFormer backbone for mmseg 1.x (the released
# semantic_segmentation/configs/_base_/models/upernet_uniformer.py): mmseg's own ResNet-50
# UperNet (UPerHead on the four stages, FCNHead auxiliary head on stage 3 with loss weight 0.4,
# SyncBN, 150 ADE20K classes) with the backbone swapped for UniFormer-S. The four stage outputs
# (64/128/320/512 channels) each pass a LayerNorm (`out_norm='ln'`); stage 3 trains with global
# attention. Whole-image inference (inherited `test_cfg=dict(mode='whole')`).
_base_ = ['mmseg::_base_/models/upernet_r50.py']
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    pretrained=None,  # the base's ResNet checkpoint; the backbone's init_cfg loads ImageNet weights
    data_preprocessor=dict(size=(512, 512)),  # training crops padded to 512x512 (label 255)
    backbone=dict(_delete_=True, type='mmuniformer.UniFormer', arch='small',
                  out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='global',
                  drop_path_rate=0.25),
    decode_head=dict(in_channels=[64, 128, 320, 512], num_classes=150),
    auxiliary_head=dict(in_channels=320, num_classes=150))
