# UniFormer token-labeling classifier for mmpretrain (the released token-labeling code,
# Sense-X/UniFormer image_classification/token_labeling/tlt): MixToken on the backbone's
# stage-1 tokens (Beta(1, 1)), a pooled head plus a per-token head. Class target: the
# annotator's distribution over the crop; token targets: the annotator's map over the crop.
# No Mixup/CutMix (main.py --mixup 0 --cutmix 0: MixToken replaces them).
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    type='mmuniformer.TokenLabelClassifier',
    mix_token=True,
    mix_beta=1.0,
    backbone=dict(type='mmuniformer.UniFormer', arch='large_ls', out_indices=(3, ), out_norm='bn',
                  drop_path_rate=0.4),
    neck=None,
    head=dict(type='mmuniformer.TokenLabelClsHead', num_classes=1000, in_channels=640,
              dense_weight=1.0, cls_weight=1.0, aux_infer_weight=0.5, label_smooth_val=0.1,
              use_ground_truth=False))  # main.py --ground-truth, passed by no released script
