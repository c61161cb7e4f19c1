"""The segmentation quick start: projects/quickstart/tools/data/make_ade_seg.py (ADE20K-style
`shapes_ade`), its config projects/quickstart/configs/fpn_uniformer_tiny_shapes_ade.py read by
mmseg's dataset and pipeline, and the quick-start table's mIoU row."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, load_module

pytest.importorskip('mmseg')

CONFIG = osp.join(REPO, 'projects', 'quickstart', 'configs', 'fpn_uniformer_tiny_shapes_ade.py')


@pytest.fixture(scope='module')
def gen():
    return load_module(osp.join(REPO, 'projects/quickstart/tools/data/make_ade_seg.py'))


@pytest.fixture(scope='module')
def shapes_ade(gen, tmp_path_factory):
    root = tmp_path_factory.mktemp('qs') / 'shapes_ade'
    gen.generate(root, num_train=6, num_val=3, size=(96, 80), seed=2)
    return root


def test_generator_layout_and_labels(gen, shapes_ade, tmp_path):
    assert gen.CLASSES == ('smooth', 'stripes', 'checker', 'disc', 'triangle', 'square')
    assert (shapes_ade / 'classes.txt').read_text().split() == list(gen.CLASSES)
    for split, count in (('training', 6), ('validation', 3)):
        images = sorted((shapes_ade / 'images' / split).glob('*.jpg'))
        labels = sorted((shapes_ade / 'annotations' / split).glob('*.png'))
        assert [p.stem for p in images] == [p.stem for p in labels] == [
            f'{i:05d}' for i in range(count)]
        for img, lab in zip(images, labels):
            image, label = Image.open(img), Image.open(lab)
            assert image.mode == 'RGB' and image.size == (80, 96)  # (W, H)
            assert label.mode == 'L' and label.size == (80, 96)
            values = np.unique(np.asarray(label))
            assert values.min() >= 0 and values.max() <= len(gen.CLASSES)
            assert 0 in values  # the ignored ring around the shapes
            assert set(values) & {4, 5, 6}  # at least one shape
            assert set(values) & {1, 2, 3}  # background texture
    # deterministic for a seed, different for another
    again = tmp_path / 'again'
    gen.generate(again, num_train=1, num_val=1, size=(96, 80), seed=2)
    other = tmp_path / 'other'
    gen.generate(other, num_train=1, num_val=1, size=(96, 80), seed=3)
    first = np.asarray(Image.open(shapes_ade / 'annotations/training/00000.png'))
    assert np.array_equal(first, np.asarray(Image.open(again / 'annotations/training/00000.png')))
    assert not np.array_equal(first, np.asarray(Image.open(other / 'annotations/training/00000.png')))


def test_generator_rejects_bad_arguments(gen, tmp_path):
    with pytest.raises(ValueError, match='--size must be between 32 and 1024 pixels'):
        gen.generate(tmp_path, size=(16, 64))
    with pytest.raises(ValueError, match='--num-train must be a whole number of 1 or more'):
        gen.generate(tmp_path, num_train=-1)
    with pytest.raises(ValueError, match='unknown shape'):
        gen.shape_mask('hexagon', 32, 32, 16, 16, 8, 0.)


def test_shapes_are_told_apart_by_outline_not_colour(gen):
    """A disc covers pi r^2, a square 2 r^2 and a triangle (3 sqrt 3 / 4) r^2 of their
    circumradius r (hand-computed areas, within the anti-aliasing of the edges)."""
    r = 40.
    areas = {name: gen.shape_mask(name, 128, 128, 64, 64, r, 0.3).sum() for name in gen.SHAPES}
    assert areas['disc'] == pytest.approx(np.pi * r * r, rel=0.02)
    assert areas['square'] == pytest.approx(2 * r * r, rel=0.02)
    assert areas['triangle'] == pytest.approx(3 * np.sqrt(3) / 4 * r * r, rel=0.02)


def test_quickstart_config_reads_the_data(gen, shapes_ade):
    """The config's datasets read the generated split with ADE20K's label handling: 0 becomes
    the ignore index 255 and 1..6 become classes 0..5."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    import mmuniformer  # noqa: F401
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.decode_head.num_classes == len(gen.CLASSES)
    assert tuple(cfg.train_dataloader.dataset.metainfo.classes) == gen.CLASSES
    init_default_scope('mmseg')
    for loader, count in (('train_dataloader', 6), ('test_dataloader', 3)):
        dataset_cfg = cfg[loader].dataset
        dataset_cfg.data_root = str(shapes_ade)
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) == count
        sample = dataset[0]
        seg = sample['data_samples'].gt_sem_seg.data.numpy()
        raw = np.asarray(Image.open(dataset.get_data_info(0)['seg_map_path']))
        if loader == 'test_dataloader':  # no augmentation: the label map as stored, shifted
            expected = np.where(raw == 0, 255, raw.astype(np.int64) - 1)
            assert np.array_equal(seg[0], expected)
        assert set(np.unique(seg)) <= set(range(6)) | {255}


def test_quickstart_table_reads_miou():
    table = load_module(osp.join(REPO, 'projects/quickstart/tools/quickstart_table.py'))
    log = ('11/30 16:32:30 - mmengine - INFO - Iter(test) [60/60]    aAcc: 66.1400  '
           'mIoU: 40.0300  mAcc: 54.5500  data_time: 0.0162  time: 0.1178')
    assert table.read_metrics('seg', log) == [('mIoU (%)', pytest.approx(40.03))]
    assert table.rows('seg', log.replace('40.0300', '5.3100'), log, 200) == [
        ('seg', 'mIoU (%)', '5.3', '40.0', '200 s')]
