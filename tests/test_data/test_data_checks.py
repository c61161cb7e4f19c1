"""Data that an upstream library fails on unclearly is stopped first, with an error naming the
file: COCO annotation files (no images, broken structure, dangling ids), empty datasets,
segmentation labels outside the classes."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmuniformer.datasets.checks import CheckSegLabels, check_coco_file

from tests.conftest import REPO, load_module

COCO_GENERATOR = Path(REPO, 'projects/quickstart/tools/data/make_coco_instances.py')
ADE_GENERATOR = Path(REPO, 'projects/quickstart/tools/data/make_ade_seg.py')


def _coco(path: Path, images=None, annotations=None, categories=None) -> str:
    images = [dict(id=1, file_name='a.png', width=32, height=32)] if images is None else images
    annotations = [dict(id=1, image_id=1, category_id=1, bbox=[2, 2, 8, 8], area=64,
                        iscrowd=0, segmentation=[[2, 2, 10, 2, 10, 10, 2, 10]])
                   ] if annotations is None else annotations
    categories = [dict(id=1, name='thing')] if categories is None else categories
    path.write_text(json.dumps(dict(images=images, annotations=annotations,
                                    categories=categories)))
    return str(path)


def test_coco_file_with_no_images(tmp_path):
    path = _coco(tmp_path / 'empty.json', images=[], annotations=[])
    with pytest.raises(ValueError, match=r'empty\.json holds no images .*"images" list is empty'):
        check_coco_file(path)


@pytest.mark.parametrize('content, message', [
    ('', r'bad\.json is not JSON'),
    ('[1, 2]', r'bad\.json holds a JSON list; accepted: an object with the lists images'),
    ('{"images": []}', r"bad\.json has no list annotations, categories \(keys found: "
                       r"\['images'\]\)"),
])
def test_coco_file_that_is_not_coco(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        check_coco_file(str(path))


def test_coco_annotations_naming_unknown_images_or_categories(tmp_path):
    ann = dict(id=1, image_id=7, category_id=1, bbox=[0, 0, 4, 4], area=16, iscrowd=0)
    with pytest.raises(ValueError, match=r"name image_id \['7'\] that are not among its 1 "
                                         r'images'):
        check_coco_file(_coco(tmp_path / 'a.json', annotations=[ann]))
    ann.update(image_id=1, category_id=3)
    with pytest.raises(ValueError, match=r"name category_id \['3'\] that are not among its 1 "
                                         r'categories'):
        check_coco_file(_coco(tmp_path / 'b.json', annotations=[ann]))
    with pytest.raises(FileNotFoundError, match='missing.json does not exist'):
        check_coco_file(str(tmp_path / 'missing.json'))


def test_generated_coco_files_pass(tmp_path):
    out = load_module(COCO_GENERATOR).generate(tmp_path / 'coco', 3, 2, (48, 64), 0)
    counts = check_coco_file(str(Path(out) / 'annotations/instances_train.json'))
    assert counts['images'] == 3 and counts['annotations'] >= 3 and counts['categories'] > 1


def _build_coco(path: str, **kwargs):
    from mmdet.registry import DATASETS
    return DATASETS.build(dict(type='mmuniformer.CocoDataset', ann_file=path,
                               data_prefix=dict(img=''), pipeline=[],
                               metainfo=dict(classes=('thing', )), **kwargs))


def test_coco_dataset_checks_its_file_first(tmp_path):
    """mmdet + mmengine stop on a COCO file with no images with "need at least one array to
    concatenate" (BaseDataset._serialize_data); mmuniformer.CocoDataset names the file."""
    pytest.importorskip('mmdet')
    import mmdet.datasets  # noqa: F401  mmdet in use: its extensions of ours register
    with pytest.raises(ValueError, match=r'no_images\.json holds no images'):
        _build_coco(_coco(tmp_path / 'no_images.json', images=[], annotations=[]))
    # images present, but filter_cfg drops them all (none has an annotation of the classes)
    with pytest.raises(ValueError, match=r"unannotated\.json: none of its 1 images is left "
                                         r"after filter_cfg=\{'filter_empty_gt': True"):
        _build_coco(_coco(tmp_path / 'unannotated.json', annotations=[]),
                    filter_cfg=dict(filter_empty_gt=True, min_size=0))
    dataset = _build_coco(_coco(tmp_path / 'good.json'))
    assert len(dataset) == 1 and dataset[0]['instances'][0]['bbox_label'] == 0


def test_seg_labels_outside_the_classes(tmp_path):
    check = CheckSegLabels(num_classes=6)
    ok = dict(gt_seg_map=np.array([[0, 5], [255, 3]], np.uint8), seg_map_path='ok.png')
    assert check(ok) is ok
    bad = dict(gt_seg_map=np.array([[0, 7], [9, 255]], np.uint8), seg_map_path='m/x.png',
               reduce_zero_label=True)
    with pytest.raises(ValueError, match=r'm/x\.png: labels 7, 9 in 2 pixels are outside the 6 '
                                         r'classes 0\.\.5 and ignore_index 255 '
                                         r'\(reduce_zero_label=True'):
        check(bad)
    with pytest.raises(ValueError, match='num_classes must be an int > 0, got 0'):
        CheckSegLabels(num_classes=0)
    with pytest.raises(ValueError, match="ignore_index must be an int, got '255'"):
        CheckSegLabels(num_classes=2, ignore_index='255')
    with pytest.raises(ValueError, match='no gt_seg_map in the sample'):
        check(dict(img=np.zeros((2, 2))))


def test_seg_labels_through_mmseg_loading(tmp_path):
    """A mask file whose values exceed the classes: mmseg loads it without complaint (and its
    CrossEntropyLoss fails with "Target 7 is out of bounds", its IoUMetric drops the pixels);
    CheckSegLabels after LoadAnnotations names the file."""
    pytest.importorskip('mmseg')
    import mmseg.datasets  # noqa: F401  registers LoadAnnotations
    from mmengine.dataset import Compose
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 3
    mask[4:, :2] = 8  # file label 8 -> class 7 after reduce_zero_label; 6 classes
    Image.fromarray(mask).save(tmp_path / 'mask.png')
    pipeline = Compose([dict(type='mmseg.LoadAnnotations', reduce_zero_label=True),
                        dict(type='mmuniformer.CheckSegLabels', num_classes=6)])
    sample = dict(seg_map_path=str(tmp_path / 'mask.png'), reduce_zero_label=True,
                  seg_fields=[])
    with pytest.raises(ValueError, match=r'mask\.png: labels 7 in 8 pixels are outside the 6'):
        pipeline(sample)
    mask[4:, :2] = 6  # class 5: accepted
    Image.fromarray(mask).save(tmp_path / 'mask.png')
    out = pipeline(dict(seg_map_path=str(tmp_path / 'mask.png'), reduce_zero_label=True,
                        seg_fields=[]))
    assert set(np.unique(out['gt_seg_map'])) == {255, 2, 5}


def test_generated_seg_masks_fit_the_quickstart_classes(tmp_path):
    pytest.importorskip('mmseg')
    import mmseg.datasets  # noqa: F401
    from mmengine.config import Config
    from mmengine.dataset import Compose
    cfg = Config.fromfile(str(Path(REPO, 'projects/quickstart/configs/'
                                         'fpn_uniformer_tiny_shapes_ade.py')))
    num_classes = cfg.model.decode_head.num_classes
    out = tmp_path / 'ade'
    load_module(ADE_GENERATOR).generate(out, 4, 1, (32, 32), 0)
    masks = sorted((out / 'annotations').rglob('*.png'))
    assert masks
    pipeline = Compose([dict(type='mmseg.LoadAnnotations', reduce_zero_label=True),
                        dict(type='mmuniformer.CheckSegLabels', num_classes=num_classes)])
    for mask in masks:
        pipeline(dict(seg_map_path=str(mask), reduce_zero_label=True, seg_fields=[]))
