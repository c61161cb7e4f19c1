# UniFormer-B with layer scale (init 1e-6) on the global blocks of stages 3-4.
_base_ = ['./uniformer_b_in1k.py']
model = dict(backbone=dict(arch='base_ls', layer_scale_init=1e-6))
