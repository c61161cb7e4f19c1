# Cascade Mask R-CNN + FPN on a UniFormer backbone for mmdet 3, with the box heads of the
# released object_detection/exp/cascade_mask_rcnn_3x_ms_hybrid_* configs: each of the three
# stages a "4conv1fc" head (four 3x3 convs of 256 channels with SyncBN, one 1024-d fc),
# regressing decoded boxes with a GIoU loss (weight 10). Backbone and neck as
# mask_rcnn_uniformer_fpn.py; the rest is mmdet's ResNet-50 Cascade Mask R-CNN.
_base_ = ['mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py']
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
# box-delta normalisation of the three cascade stages (IoU thresholds 0.5, 0.6, 0.7)
cascade_target_stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                       [0.033, 0.033, 0.067, 0.067]]
model = dict(
    backbone=dict(_delete_=True, type='mmuniformer.UniFormer', arch='small',
                  out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='hybrid', window_size=14,
                  drop_path_rate=0.2),
    neck=dict(in_channels=[64, 128, 320, 512]),
    roi_head=dict(bbox_head=[
        dict(
            type='ConvFCBBoxHead',
            num_shared_convs=4,
            num_shared_fcs=1,
            in_channels=256,
            conv_out_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                            target_stds=stds),
            reg_class_agnostic=False,
            reg_decoded_bbox=True,
            norm_cfg=dict(type='SyncBN', requires_grad=True),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='GIoULoss', loss_weight=10.0))
        for stds in cascade_target_stds
    ]))
