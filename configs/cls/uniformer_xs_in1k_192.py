# UniFormer-XS (lightweight hourglass H-UniFormer) on ImageNet-1K, trained and tested at 192
# (16.51M params and 1.42 GFLOPs by fvcore on the official implementation; paper Table 11:
# 16.5M, 1.4 GFLOPs, 81.5 top-1).
# The recipe of uniformer_xxs_in1k_160.py (600 epochs, EMA, full precision) with drop path 0.1.
# The released official run (image_classification/exp_light/xs_192/run.sh) uses the same
# recipe except 30 warm-up epochs.
_base_ = ['./uniformer_xxs_in1k_160.py']
image_size = 192
model = dict(backbone=dict(arch='xs', drop_path_rate=0.1), head=dict(in_channels=512))
# the pipelines of the base at 192 (test: short side int(192 / 0.875) = 219, centre crop)
train_pipeline = [dict(t, scale=image_size) if t.type == 'RandomResizedCrop' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=int(image_size / 0.875)) if t.type == 'ResizeEdge' else
                 dict(t, crop_size=image_size) if t.type == 'CenterCrop' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
