# UCF101 / HMDB51 recipe of the released runs (exp/uniformer_s16x4_{ucf101,hmdb51}_prek400/
# run.sh: lr 5e-5 for a batch of 128, i.e. 1.25e-5 per 32 videos, 25 epochs, 5 warm-up; the
# paper's text says 1e-5 per 32 and 20 epochs): AdamW, wd 0.05 (none on 1-D parameters:
# norms, biases, as ZERO_WD_1D_PARAM), linear warm-up from 1e-6, cosine decay to 1e-6.
# (the Kinetics schedule, video_adamw_110e.py, with this lr, length and warm-up)
_base_ = './video_adamw_110e.py'
base_lr = 1.25e-5
max_epochs = 25
warmup_epochs = 5
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / base_lr, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
# lr above is for a total batch of 32 videos; `--auto-scale-lr` rescales it for other batches.
