# UniFormer-S-dagger (overlapped conv stem, head_dim 32) on ImageNet-1K at 224
# (paper Table 2: 24M params, 4.2 GFLOPs, 83.4 top-1).
_base_ = ['./uniformer_s_in1k.py']
model = dict(backbone=dict(arch='small_plus'))
