# Something-Something V1 as extracted JPEG frames for mmaction2's RawframeDataset (the
# dataset is released as frames; mmaction2's tools/data/sthv1 layout):
#   data/sthv1/rawframes/<id>/00001.jpg ..., data/sthv1/sthv1_{train,val}_list_rawframes.txt
# with annotation lines `<id> <total_frames> <label>`. Uniform sampling, no flip and the
# Something-Something V2 augmentation (two augmented samples per decoded clip) and 3 crops x
# 1 clip test (see sthv2_video.py). One sample per clip:
#   --cfg-options train_dataloader.dataset.pipeline.2.num_repeats=1
_base_ = './sthv2_video.py'
dataset_type = 'RawframeDataset'
filename_tmpl = '{:05}.jpg'
data_root = 'data/sthv1/rawframes'
data_root_val = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
ann_file_test = 'data/sthv1/sthv1_val_list_rawframes.txt'
# the Something-Something V2 pipelines reading frames instead of decoding a video
train_pipeline, val_pipeline, test_pipeline = (
    [dict(type='RawFrameDecode') if t.type == 'DecordDecode' else t
     for t in pipeline if t.type != 'DecordInit']
    for pipeline in (_base_.train_pipeline, _base_.val_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(type=dataset_type, ann_file=ann_file, filename_tmpl=filename_tmpl,
                      data_prefix=dict(_delete_=True, img=root), pipeline=pipeline))
    for ann_file, root, pipeline in ((ann_file_train, data_root, train_pipeline),
                                     (ann_file_val, data_root_val, val_pipeline),
                                     (ann_file_test, data_root_val, test_pipeline)))
