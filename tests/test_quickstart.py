"""The quick start: the shapes_cls generator and the quick-start config."""
import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'projects/quickstart/configs/uniformer_tiny_shapes.py'


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        'make_shapes_cls', ROOT / 'tools/data/make_shapes_cls.py')
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
    more = gen.generate(tmp_path / 'more', num_train=6, num_val=0, size=40, seed=7)
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


def test_quickstart_script_parses() -> None:
    script = ROOT / 'tools/quickstart.sh'
    assert subprocess.run(['bash', '-n', str(script)]).returncode == 0
    text = script.read_text()
    assert 'set -euo pipefail' in text and 'tools/setup_env.sh' in text
    assert str(CONFIG.relative_to(ROOT)) in text
