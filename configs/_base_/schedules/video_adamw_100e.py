# The Kinetics schedule (video_adamw_110e.py) over 100 epochs, as the released 8x8 runs
# (exp/uniformer_{s,b}8x8_k400/run.sh: SOLVER.MAX_EPOCH 100; the paper's text says 110).
_base_ = './video_adamw_110e.py'
max_epochs = 100
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
