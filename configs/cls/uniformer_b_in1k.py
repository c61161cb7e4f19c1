# UniFormer-B on ImageNet-1K at 224 (paper Table 2: 50M params, 8.3 GFLOPs, 83.9 top-1):
# drop path 0.3, lr 8e-4 at batch 1024.
_base_ = ['./uniformer_s_in1k.py']
model = dict(backbone=dict(arch='base', drop_path_rate=0.3))
optim_wrapper = dict(optimizer=dict(lr=8e-4))
