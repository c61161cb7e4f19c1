# UniFormer token-labeling classifier for mmpretrain: MixToken in the backbone's
# stage-1 tokens, a pooled head plus a per-token head trained on dense label maps.
# No Mixup/CutMix (MixToken replaces them), as in the official token-labeling recipe.
custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
model = dict(
    type='mmuniformer.TokenLabelClassifier',
    mix_token=True,
    mix_beta=1.0,
    backbone=dict(type='mmuniformer.UniFormer', arch='large_ls', out_indices=(3, ), out_norm='bn',
                  drop_path_rate=0.4),
    neck=None,
    head=dict(type='mmuniformer.TokenLabelClsHead', num_classes=1000, in_channels=640,
              dense_weight=1.0, cls_weight=1.0, aux_infer_weight=0.5, label_smooth_val=0.1))
