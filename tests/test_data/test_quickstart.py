"""The quick starts: the shapes_cls and shapes_coco generators, their quick-start configs,
and tools/quickstart.sh (task selection, closing table)."""
import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'projects/quickstart/configs/uniformer_tiny_shapes.py'


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        'make_shapes_cls', ROOT / 'projects/quickstart/tools/data/make_shapes_cls.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Image = pytest.importorskip('PIL.Image')
gen = _load_generator()


def _read_split(root: Path, split: str) -> dict:
    """{relative path: pixel array} of one split."""
    return {p.relative_to(root).as_posix(): np.asarray(Image.open(p))
            for p in sorted((root / split).glob('*/*.png'))}


@pytest.fixture(scope='module')
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp('a') / 'shapes', num_train=5, num_val=3, size=40,
                        seed=7)


def test_layout_balance_and_size(tiny: Path) -> None:
    classes = (tiny / 'classes.txt').read_text().split()
    assert classes == list(gen.CLASSES) == sorted(gen.CLASSES)
    assert len(classes) == 8
    for split, count in (('train', 5), ('val', 3)):
        assert sorted(p.name for p in (tiny / split).iterdir()) == classes
        for name in classes:
            files = sorted((tiny / split / name).glob('*.png'))
            assert len(files) == count
            for f in files:
                img = Image.open(f)
                assert img.mode == 'RGB' and img.size == (40, 40)


def test_deterministic_for_a_seed(tiny: Path, tmp_path: Path) -> None:
    again = gen.generate(tmp_path / 'again', num_train=5, num_val=3, size=40, seed=7)
    other = gen.generate(tmp_path / 'other', num_train=5, num_val=3, size=40, seed=8)
    for split in ('train', 'val'):
        first, second, third = (_read_split(r, split) for r in (tiny, again, other))
        assert first.keys() == second.keys() == third.keys()
        assert all(np.array_equal(first[k], second[k]) for k in first)
        assert sum(np.array_equal(first[k], third[k]) for k in first) == 0
    # an image does not depend on how many were asked for
    more = gen.generate(tmp_path / 'more', num_train=6, num_val=1, size=40, seed=7)
    np.testing.assert_array_equal(
        np.asarray(Image.open(more / 'train/star/star_00004.png')),
        np.asarray(Image.open(tiny / 'train/star/star_00004.png')))


def test_images_are_not_constant() -> None:
    for idx, name in enumerate(gen.CLASSES):
        img = gen.render(name, 32, gen.image_rng(0, 'train', idx, 0))
        assert img.shape == (32, 32, 3) and img.dtype == np.uint8
        assert img.std() > 10, name


def test_mean_colour_does_not_tell_the_class() -> None:
    """A nearest-class-mean classifier on mean RGB stays near chance (1/8)."""
    def features(split: str, count: int) -> tuple:
        feats, labels = [], []
        for idx, name in enumerate(gen.CLASSES):
            for i in range(count):
                img = gen.render(name, 32, gen.image_rng(0, split, idx, i))
                feats.append(img.reshape(-1, 3).mean(0))
                labels.append(idx)
        return np.array(feats), np.array(labels)

    x_train, y_train = features('train', 80)
    x_val, y_val = features('val', 80)
    means = np.stack([x_train[y_train == c].mean(0) for c in range(len(gen.CLASSES))])
    pred = np.argmin(((x_val[:, None] - means[None]) ** 2).sum(-1), axis=1)
    accuracy = (pred == y_val).mean()
    assert accuracy < 0.25, accuracy  # chance is 0.125


def test_config_builds_and_reads_the_data(tiny: Path) -> None:
    pytest.importorskip('mmpretrain')
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS, MODELS

    cfg = Config.fromfile(str(CONFIG))
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    assert cfg.train_dataloader.dataset.data_root == 'data/shapes_cls'
    assert cfg.train_dataloader.num_workers <= 2
    data_cfg = cfg.train_dataloader.dataset
    data_cfg.update(data_root=str(tiny), classes=str(tiny / 'classes.txt'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        dataset = DATASETS.build(data_cfg)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert logits.shape == (2, 8)

    assert len(dataset) == 8 * 5
    assert dataset.metainfo['classes'] == gen.CLASSES
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert Path(info['img_path']).parent.name == gen.CLASSES[info['gt_label']]
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 40, 40)


SCRIPT = ROOT / 'tools/quickstart.sh'
DET_CONFIG = ROOT / 'projects/quickstart/configs/mask_rcnn_uniformer_tiny_shapes_coco.py'


def _load_tool(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table = _load_tool('quickstart_table', 'projects/quickstart/tools/quickstart_table.py')
coco_gen = _load_tool('make_coco_instances',
                      'projects/quickstart/tools/data/make_coco_instances.py')

# Lines as mmengine prints them at the end of `mim test` (mmpretrain, mmaction2, mmdet).
CLS_LOG = 'x - mmengine - INFO - Epoch(test) [4/4]    accuracy/top1: 95.7500  data_time: 0.01'
VIDEO_LOG = 'x - mmengine - INFO - Epoch(test) [240/240]    acc/top1: 0.9917  acc/top5: 1.0000'
DET_LOG = ('x - mmengine - INFO - bbox_mAP_copypaste: 0.412 0.700 0.44 0.1 0.5 0.6\n'
           'x - mmengine - INFO - Epoch(test) [8/8]    coco/bbox_mAP: 0.4120  coco/bbox_mAP_50: '
           '0.7000  coco/segm_mAP: 0.3890  coco/segm_mAP_50: 0.6500  data_time: 0.0100')


def test_table_reads_every_task_in_percent() -> None:
    rows = (table.rows('cls', 'accuracy/top1: 12.5000', CLS_LOG, 191.6) +
            table.rows('video', 'acc/top1: 0.1250', VIDEO_LOG, 107) +
            table.rows('det', DET_LOG.replace('0.4120', '0.0003').replace('0.3890', '0.0001'),
                       DET_LOG, 420.2))
    assert rows == [
        ('cls', 'top-1 accuracy (%)', '12.5', '95.8', '192 s'),
        ('video', 'top-1 accuracy (%)', '12.5', '99.2', '107 s'),
        ('det', 'box mAP (%)', '0.0', '41.2', '420 s'),
        ('', 'mask mAP (%)', '0.0', '38.9', ''),
    ]
    text = table.format_table(rows)
    lines = text.splitlines()
    assert lines[0].split('|')[1:-1] == [' task  ', ' metric             ', ' untrained ',
                                         ' trained ', ' wall time ']
    assert len(lines) == 2 + len(rows) and len({len(line) for line in lines}) == 1


def test_table_takes_the_last_value_and_rejects_a_missing_metric(tmp_path: Path) -> None:
    log = 'accuracy/top1: 10.0000\naccuracy/top1: 55.5000\n'
    assert table.read_metrics('cls', log) == [('top-1 accuracy (%)', 55.5)]
    with pytest.raises(ValueError, match='segm'):
        table.read_metrics('det', 'coco/bbox_mAP: 0.5000')
    with pytest.raises(ValueError, match='unknown task'):
        table.read_metrics('seg3d', log)
    good, bad = tmp_path / 'good.log', tmp_path / 'bad.log'
    good.write_text(DET_LOG)
    bad.write_text('Traceback (most recent call last):\n')
    assert table.main(['--row', 'det', str(good), str(good), '3']) == 0
    assert table.main(['--row', 'det', str(good), str(bad), '3']) == 1


@pytest.mark.parametrize('args,message', [
    (['--task', 'seg3d'], "unknown task 'seg3d'"),
    (['--task'], '--task needs a value'),
    (['--bogus'], "unknown argument '--bogus'"),
])
def test_quickstart_script_rejects_bad_arguments(args: list, message: str) -> None:
    """Arguments are checked before the (slow) set-up starts."""
    proc = subprocess.run(['bash', str(SCRIPT)] + args, capture_output=True, text=True,
                          timeout=60, env={'PATH': '/usr/bin:/bin', 'HOME': '/nonexistent'})
    assert proc.returncode == 2
    assert message in proc.stderr
    assert 'setting up' not in proc.stdout


@pytest.fixture(scope='module')
def coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return coco_gen.generate(tmp_path_factory.mktemp('c') / 'coco', num_train=12, num_val=4,
                             size=(72, 96), seed=5)


def _coco_json(root: Path, split: str) -> dict:
    import json
    return json.loads((root / f'annotations/instances_{split}.json').read_text())


def test_coco_layout_and_annotations(coco: Path) -> None:
    for split, count in (('train', 12), ('val', 4)):
        data = _coco_json(coco, split)
        assert [c['name'] for c in data['categories']] == ['circle', 'triangle', 'square', 'star']
        assert [c['id'] for c in data['categories']] == [1, 2, 3, 4]
        assert len(data['images']) == count
        per_image = {}
        for ann in data['annotations']:
            per_image[ann['image_id']] = per_image.get(ann['image_id'], 0) + 1
            poly = np.array(ann['segmentation'][0]).reshape(-1, 2)
            x, y, w, h = ann['bbox']
            assert ann['iscrowd'] == 0 and 1 <= ann['category_id'] <= 4
            assert poly[:, 0].min() >= x - 0.01 and poly[:, 0].max() <= x + w + 0.01
            assert poly[:, 1].min() >= y - 0.01 and poly[:, 1].max() <= y + h + 0.01
            assert 0 <= x and x + w <= 96 and 0 <= y and y + h <= 72
            assert 0 < ann['area'] <= w * h
        assert set(per_image) == {img['id'] for img in data['images']}  # no empty image
        assert all(1 <= n <= coco_gen.MAX_INSTANCES for n in per_image.values())
        for img in data['images']:
            assert Image.open(coco / split / img['file_name']).size == (96, 72)


def test_coco_shape_areas_and_masks(coco: Path) -> None:
    """Polygon areas against the closed forms (circumradius r): square 2 r^2, triangle
    3 sqrt(3) / 4 r^2, circle ~ pi r^2; the masks pycocotools rasterises match the areas and
    never overlap; the drawn pixels inside a mask differ from those just outside it."""
    r = 10.
    assert coco_gen.polygon_area(coco_gen.shape_polygon('square', 0, 0, r, 0.3)) == \
        pytest.approx(2 * r * r)
    assert coco_gen.polygon_area(coco_gen.shape_polygon('triangle', 5, 5, r, 1.)) == \
        pytest.approx(3 * 3 ** 0.5 / 4 * r * r)
    assert coco_gen.polygon_area(coco_gen.shape_polygon('circle', 0, 0, r, 0.)) == \
        pytest.approx(np.pi * r * r, rel=0.01)
    mask_utils = pytest.importorskip('pycocotools.mask')
    data = _coco_json(coco, 'train')
    by_image = {}
    for ann in data['annotations']:
        rle = mask_utils.frPyObjects(ann['segmentation'], 72, 96)
        mask = mask_utils.decode(mask_utils.merge(rle)).astype(bool)
        assert abs(mask.sum() - ann['area']) <= 0.15 * ann['area'] + 8
        by_image.setdefault(ann['image_id'], []).append(mask)
    for image_id, masks in by_image.items():
        assert np.sum(masks, axis=0).max() == 1, image_id  # instances do not overlap
        img = np.asarray(Image.open(coco / 'train' / f'{image_id - 1:05d}.png')).astype(float)
        for mask in masks:
            inner = img[mask].mean(0)
            ring = np.zeros_like(mask)
            ys, xs = np.nonzero(mask)
            ring[max(ys.min() - 3, 0):ys.max() + 4, max(xs.min() - 3, 0):xs.max() + 4] = True
            ring &= ~np.any(masks, axis=0)
            if ring.sum() > 10:
                assert np.linalg.norm(inner - img[ring].mean(0)) > 30


def test_coco_deterministic_and_varied(coco: Path, tmp_path: Path) -> None:
    again = coco_gen.generate(tmp_path / 'again', num_train=12, num_val=4, size=(72, 96), seed=5)
    other = coco_gen.generate(tmp_path / 'other', num_train=12, num_val=4, size=(72, 96), seed=6)
    assert _coco_json(again, 'train') == _coco_json(coco, 'train')
    assert _coco_json(other, 'train') != _coco_json(coco, 'train')
    first = np.asarray(Image.open(coco / 'train/00003.png'))
    np.testing.assert_array_equal(first, np.asarray(Image.open(again / 'train/00003.png')))
    # many images: every category, a spread of sizes and counts
    anns = []
    for i in range(60):
        _, instances = coco_gen.render((72, 96), coco_gen.image_rng(0, 'train', i))
        anns += [(cat, coco_gen.polygon_area(poly)) for cat, poly in instances]
    cats = [c for c, _ in anns]
    assert set(cats) == {0, 1, 2, 3}
    areas = np.array([a for _, a in anns])
    assert areas.max() > 8 * areas.min()


def test_det_config_builds_and_reads_the_data(coco: Path) -> None:
    pytest.importorskip('mmdet')
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmdet.registry import DATASETS, MODELS

    cfg = Config.fromfile(str(DET_CONFIG))
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    assert cfg.train_dataloader.dataset.data_root == 'data/shapes_coco/'
    assert cfg.train_dataloader.num_workers <= 2
    assert cfg.val_evaluator.type == 'CocoMetric'
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.model.backbone.type == 'mmuniformer.UniFormer'
    # the backbone starts from the cls quick start's last checkpoint (tools/quickstart.sh)
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='work_dirs/quickstart/cls/epoch_12.pth')
    cfg.model.backbone.init_cfg = None
    data_cfg = cfg.train_dataloader.dataset
    data_cfg.data_root = str(coco) + '/'
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        dataset = DATASETS.build(data_cfg)
    assert len(dataset) == 12
    assert dataset.metainfo['classes'] == coco_gen.CATEGORIES
    sample = dataset[0]
    # the pipeline resizes to the configured 128x96 (W x H): 96x72 scales by 4/3
    assert tuple(sample['inputs'].shape) == (3, 96, 128)
    gt = sample['data_samples'].gt_instances
    assert len(gt) >= 1 and gt.masks.masks.shape[1:] == (96, 128)
    assert sample['data_samples'].scale_factor == pytest.approx((4 / 3, 4 / 3))
    model.init_weights()
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 128, 160))
    assert [tuple(f.shape) for f in feats] == [(1, 64, 128 // s, 160 // s) for s in (4, 8, 16, 32)] \
        + [(1, 64, 2, 3)]


def test_det_backbone_starts_from_the_cls_quickstart_checkpoint(tmp_path: Path) -> None:
    """The cls quick start's checkpoint (an mmpretrain ImageClassifier: `backbone.*`,
    `head.*`) initialises the det quick start's backbone tensor for tensor, strictly."""
    pytest.importorskip('mmdet')
    pytest.importorskip('mmpretrain')
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmdet.registry import MODELS as DET_MODELS
    from mmpretrain.registry import MODELS as CLS_MODELS

    cls_cfg = Config.fromfile(str(ROOT / 'projects/quickstart/configs/uniformer_tiny_shapes.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = CLS_MODELS.build(cls_cfg.model)
    classifier.init_weights()
    ckpt = tmp_path / 'epoch_12.pth'
    torch.save(dict(state_dict=classifier.state_dict()), ckpt)

    det_cfg = Config.fromfile(str(DET_CONFIG))
    det_cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = DET_MODELS.build(det_cfg.model)
    detector.init_weights()
    theirs = classifier.backbone.state_dict()
    ours = detector.backbone.state_dict()
    shared = [k for k in ours if k in theirs]
    # every cls tensor but the final BatchNorm is in the det backbone, which has 4 LayerNorms
    # on its outputs instead
    assert {k.split('.')[0] for k in set(theirs) - set(ours)} == {'norm'}
    assert sorted({k.split('.')[0] for k in set(ours) - set(theirs)}) == [
        'norm1', 'norm2', 'norm3', 'norm4']
    assert len(shared) > 50
    for key in shared:
        torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0, msg=key)
