"""The pose quick start's embedded data (projects/quickstart/tools/data/make_coco_keypoints.py)
and config (projects/quickstart/configs/topdown_uniformer_tiny_stick_coco.py): valid COCO
keypoints that mmpose's CocoDataset reads, and the config trains on them."""
import json
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('mmpose')

from tests.conftest import REPO, load_module  # noqa: E402

GEN = load_module(osp.join(REPO, 'projects/quickstart/tools/data/make_coco_keypoints.py'))
QUICKSTART = osp.join(REPO, 'projects', 'quickstart', 'configs',
                      'topdown_uniformer_tiny_stick_coco.py')


def _coco_meta():
    """mmpose's COCO metainfo (keypoint names, skeleton, flip pairs)."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))


@pytest.fixture(scope='module')
def stick(tmp_path_factory):
    root = tmp_path_factory.mktemp('stick') / 'stick_coco'
    GEN.generate(root, num_train=24, num_val=6, size=(128, 128), seed=0)
    return root


def _load(root, split):
    return json.loads((root / 'annotations' / f'person_keypoints_{split}.json').read_text())


def test_categories_are_coco_person(stick):
    meta = _coco_meta()
    names = [meta['keypoint_id2name'][i] for i in range(17)]
    cat, = _load(stick, 'train')['categories']
    assert (cat['id'], cat['name']) == (1, 'person')
    assert cat['keypoints'] == names
    coco_limbs = {frozenset(names[i] for i in pair) for pair in meta['skeleton_links']}
    assert {frozenset(names[i - 1] for i in pair) for pair in cat['skeleton']} == coco_limbs


@pytest.mark.parametrize('split,count', [('train', 24), ('val', 6)])
def test_annotations_are_valid_coco_keypoints(stick, split, count):
    data = _load(stick, split)
    assert len(data['images']) == count
    per_image = np.bincount([a['image_id'] for a in data['annotations']], minlength=count + 1)[1:]
    assert per_image.min() >= 1 and per_image.max() <= GEN.MAX_PERSONS
    ids = [a['id'] for a in data['annotations']]
    assert len(set(ids)) == len(ids)
    for ann in data['annotations']:
        img = data['images'][ann['image_id'] - 1]
        assert (img['width'], img['height']) == (128, 128)
        kp = np.array(ann['keypoints'], dtype=float).reshape(17, 3)
        v = kp[:, 2]
        assert set(v) <= {0, 1, 2}
        assert ann['num_keypoints'] == int((v > 0).sum()) >= GEN.MIN_LABELLED
        assert (kp[v == 0, :2] == 0).all()  # unlabelled: 0, 0, 0
        labelled = kp[v > 0, :2]
        assert (labelled >= 0).all() and (labelled <= 127).all()
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0
        eps = 1e-2  # coordinates are rounded to 2 decimals
        assert (labelled[:, 0] >= x - eps).all() and (labelled[:, 0] <= x + w + eps).all()
        assert (labelled[:, 1] >= y - eps).all() and (labelled[:, 1] <= y + h + eps).all()
        assert 0 < ann['area'] <= w * h + eps and ann['iscrowd'] == 0
        # frontal figures: a person's left shoulder / hip is on the image's right
        for left, right in ((5, 6), (11, 12)):
            if v[left] and v[right]:
                assert kp[left, 0] > kp[right, 0]


def test_visibility_flags_and_sizes_vary(stick):
    anns = _load(stick, 'train')['annotations'] + _load(stick, 'val')['annotations']
    flags = np.concatenate([np.array(a['keypoints']).reshape(17, 3)[:, 2] for a in anns])
    counts = np.bincount(flags.astype(int), minlength=3)
    assert counts[1] > 0 and counts[2] > 0 and counts[2] > counts[1]  # some hidden, most visible
    heights = np.array([a['bbox'][3] for a in anns])
    assert heights.max() > 1.6 * heights.min()


def test_generation_is_deterministic(stick, tmp_path):
    again = GEN.generate(tmp_path / 'a', num_train=24, num_val=6, size=(128, 128), seed=0)
    other = GEN.generate(tmp_path / 'b', num_train=24, num_val=6, size=(128, 128), seed=1)
    assert _load(again, 'train') == _load(stick, 'train')
    assert (again / 'val' / '00003.png').read_bytes() == (stick / 'val' / '00003.png').read_bytes()
    assert _load(other, 'train') != _load(stick, 'train')


def test_too_small_images_are_refused(tmp_path):
    with pytest.raises(ValueError,
                       match=r'--size must be between 64 and 1024 pixels, got \[48, 128\]'):
        GEN.generate(tmp_path, 1, 1, size=(48, 128))


def test_quickstart_pipeline_reads_the_data(stick):
    """mmpose's CocoDataset (top-down) with the quick start's training pipeline: one sample
    per person, a 128x96 crop, 32x24 target heatmaps peaking at the visible keypoints."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(QUICKSTART)
    init_default_scope('mmpose')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(stick)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == len(_load(stick, 'train')['annotations'])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 128, 96)
    assert tuple(sample['data_samples'].gt_fields.heatmaps.shape) == (17, 32, 24)
    # the transforms before packing: the target peaks (1.0) at each labelled keypoint's
    # heatmap pixel (input coordinates / 4, rounded) when that pixel is on the heatmap
    peaks = 0
    for index in range(4):
        results = dataset.get_data_info(index)
        for transform in dataset.pipeline.transforms[:-1]:
            results = transform(results)
        heatmaps, weights = results['heatmaps'], results['keypoint_weights'][0]
        for k, (x, y) in enumerate(results['transformed_keypoints'][0]):
            col, row = int(x / 4 + 0.5), int(y / 4 + 0.5)
            labelled = results['keypoints_visible'][0, k] > 0
            if labelled and 0 <= col < 24 and 0 <= row < 32:
                assert weights[k] > 0 and heatmaps[k, row, col] == pytest.approx(1.0)
                peaks += 1
            if weights[k] == 0:
                assert not heatmaps[k].any()
    assert peaks >= 4 * GEN.MIN_LABELLED // 2


def test_quickstart_script_and_table_know_pose():
    """`tools/quickstart.sh --help` lists the pose task; the closing table reads mmpose's
    CocoMetric line (AP in [0, 1]) in percent."""
    import subprocess
    out = subprocess.run(['bash', osp.join(REPO, 'tools', 'quickstart.sh'), '--help'],
                         capture_output=True, text=True, timeout=60).stdout
    assert 'pose   mmpose  projects/quickstart/configs/topdown_uniformer_tiny_stick_coco.py' in out
    assert 'set -euo pipefail' not in out  # the help is the header comment only
    table = load_module(osp.join(REPO, 'projects/quickstart/tools/quickstart_table.py'))
    log = ('x - mmengine - INFO - Epoch(test) [4/4]    coco/AP: {}  coco/AP .5: 0.957976  '
           'coco/AP .75: 0.492170  coco/AP (M): 0.516  coco/AR: 0.6')
    assert table.rows('pose', log.format('0.000412'), log.format('0.520841'), 300.4) == [
        ('pose', 'keypoint AP (%)', '0.0', '52.1', '300 s')]
