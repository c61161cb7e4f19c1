# UniFormer-B (token labeling) fine-tuned at 384 (paper: 50M params, 27.2 GFLOPs, 86.0 top-1),
# from the 224 token-labeling model; same fine-tune recipe as uniformer_s_tl_in1k_384.py.
_base_ = ['./uniformer_s_tl_in1k_384.py']
load_from = 'work_dirs/uniformer_b_tl_in1k/epoch_300.pth'  # the 224 token-labeling model
model = dict(backbone=dict(arch='base_tl', drop_path_rate=0.3), head=dict(in_channels=512))
