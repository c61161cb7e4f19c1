# Something-Something recipe of the paper (section 6.2) and the released V2 runs
# (exp/uniformer_*_sthv2_*/run.sh): AdamW, lr 2e-4 * batch / 32, wd 0.05 (none on 1-D
# parameters), 5 linear warm-up epochs from 1e-6, cosine decay to 1e-6 over 50 epochs.
# The released V1 runs train 60 epochs: video_adamw_60e.py.
# (the Kinetics schedule, video_adamw_110e.py, with this lr, length and warm-up)
_base_ = './video_adamw_110e.py'
base_lr = 2e-4
max_epochs = 50
warmup_epochs = 5
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / base_lr, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
# lr above is for a total batch of 32 (lr = 2e-4 * batch / 32); `--auto-scale-lr` applies it.
