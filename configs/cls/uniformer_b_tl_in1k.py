# UniFormer-B trained with token labeling at 224 (official token-labeling "base": head_dim 32;
# paper 85.1 top-1), as exp/uniformer_base_tl_224/run.sh: lr 1.6e-3 at batch 1024, drop path 0.3;
# everything else as uniformer_s_tl_in1k.py.
_base_ = ['./uniformer_s_tl_in1k.py']
model = dict(backbone=dict(arch='base_tl', drop_path_rate=0.3), head=dict(in_channels=512))
