# The Something-Something schedule (video_adamw_50e.py) over 60 epochs, as the released
# Something-Something V1 runs (exp/uniformer_*_sthv1_*/run.sh: SOLVER.MAX_EPOCH 60; the paper's
# text and the V2 runs say 50).
_base_ = './video_adamw_50e.py'
max_epochs = 60
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
