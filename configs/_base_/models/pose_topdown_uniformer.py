# Top-down heatmap pose estimation on a UniFormer backbone for mmpose 1.x (the released
# pose_estimation/exp/top_down_*/config.py, mmpose 0.x `TopDown` + `TopDownSimpleHead`):
# mmpose's unchanged TopdownPoseEstimator + HeatmapHead + MSRAHeatmap codec.
# Backbone: UniFormer-S with global attention in stage 3; only the last stage (stride 32,
# 512 channels) is returned, after its LayerNorm `norm4` (the released pose backbone returns
# `norm4` of stage 4 and nothing else). Head as released: three 4x4 stride-2 deconvolutions
# (256 channels, BatchNorm, ReLU; stride 32 -> 4) and a 1x1 convolution to the 17 COCO
# keypoints. Test: flip test on the heatmaps with the released one-pixel shift of the flipped
# heatmap (`flip_test=True, shift_heatmap=True`). Codec: 256x192 input, 64x48 heatmaps,
# sigma 2 (the 384x288 and 448x320 configs replace it).
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='mmuniformer.UniFormer',
        arch='small',
        out_indices=(3, ),
        out_norm='ln',
        stage3_mode='global',
        drop_path_rate=0.2),
    head=dict(
        type='HeatmapHead',
        in_channels=512,
        out_channels=17,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        final_layer=dict(kernel_size=1),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
