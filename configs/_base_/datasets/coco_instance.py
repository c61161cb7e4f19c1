# mmdet's COCO instance segmentation data (mmdet::_base_/datasets/coco_instance.py) read through
# mmuniformer.CocoDataset: mmdet's CocoDataset that checks the annotation file first (no images,
# no annotations of the named classes, broken ids), so a bad file gets an error that names it.
_base_ = ['mmdet::_base_/datasets/coco_instance.py']
train_dataloader = dict(dataset=dict(type='mmuniformer.CocoDataset'))
val_dataloader = dict(dataset=dict(type='mmuniformer.CocoDataset'))
test_dataloader = val_dataloader
