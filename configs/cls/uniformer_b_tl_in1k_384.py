# UniFormer-B (token labeling) fine-tuned at 384 (paper: 50M params, 27.2 GFLOPs, 86.0 top-1),
# as exp/uniformer_base_tl_384/run.sh: the fine-tune recipe of uniformer_s_tl_in1k_384.py with
# drop path 0.3.
_base_ = ['./uniformer_s_tl_in1k_384.py']
load_from = 'work_dirs/uniformer_b_tl_in1k/epoch_310.pth'  # the 224 token-labeling model
model = dict(backbone=dict(arch='base_tl', drop_path_rate=0.3), head=dict(in_channels=512))
