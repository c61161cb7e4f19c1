"""The video quick start: the motion_video generator and the quick-start config.

The central claim of the data, checked numerically: single frames carry no information about
the class (per-frame statistics are the same for every class), frame differences do.
"""
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_module, predict_scores
from tests.fake_data import half_right_labels, set_labels
from tests.harness import (evaluate_config, load_config, shrink_for_test, train_config,
                           write_config)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'projects/quickstart/configs/uniformer_tiny_motion.py'
NUM_CLASSES = 8


gen = load_module(ROOT / 'projects/quickstart/tools/data/make_motion_video.py')


def _box_blur(video: np.ndarray, k: int = 7) -> np.ndarray:
    """``k x k`` box blur of ``(T, H, W, C)`` frames (edge padding)."""
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (k // 2 + 1, k // 2)
        c = np.cumsum(np.pad(video, pad, mode='edge'), axis=axis)
        n = c.shape[axis]
        video = (np.take(c, range(k, n), axis=axis) - np.take(c, range(0, n - k), axis=axis)) / k
    return video


def motion_features(video: np.ndarray) -> np.ndarray:
    """Least-squares rates of 4 global motions from frame differences (optical-flow
    constraint ``I_t = -grad(I) . v``): x / y translation, zoom and rotation about the frame
    centre, averaged over consecutive frame pairs. The frames are blurred first so that the
    linearisation holds for motions of a few pixels."""
    v = _box_blur(video.astype(np.float64))
    _, h, w, _ = v.shape
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    rx, ry = (xs - w / 2)[..., None], (ys - h / 2)[..., None]
    rates = []
    for a, b in zip(v[:-1], v[1:]):
        dt = b - a
        dy, dx = np.gradient((a + b) / 2, axis=(0, 1))
        rates.append([-(dt * f).sum() / ((f ** 2).sum() + 1e-9)
                      for f in (dx, dy, rx * dx + ry * dy, rx * dy - ry * dx)])
    return np.mean(rates, axis=0)


# typical size of each motion rate (pixels / frame, log-scale / frame, radians / frame)
RATE_SCALE = np.array([1., 1., 0.02, 0.05])
MOTION_NAMES = {(0, 1): 'move_right', (0, -1): 'move_left', (1, 1): 'move_down',
                (1, -1): 'move_up', (2, 1): 'grow', (2, -1): 'shrink', (3, 1): 'rotate_cw',
                (3, -1): 'rotate_ccw'}


def dominant_motion(rates: np.ndarray) -> str:
    """The class name of the strongest of the 4 motion rates of :func:`motion_features`."""
    main = int(np.argmax(np.abs(rates) / RATE_SCALE))
    return MOTION_NAMES[(main, int(np.sign(rates[main])))]


def frame_features(frame: np.ndarray) -> np.ndarray:
    """Appearance of one frame: 8x8 block means of the grey image, mean and std of RGB."""
    f = frame.astype(np.float64)
    h, w = f.shape[:2]
    blocks = f.mean(-1).reshape(8, h // 8, 8, w // 8).mean((1, 3)).ravel()
    return np.concatenate([blocks, f.reshape(-1, 3).mean(0), f.reshape(-1, 3).std(0)])


def gaussian_nb_accuracy(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                         y_test: np.ndarray) -> float:
    """Accuracy of a Gaussian naive Bayes classifier (per-class mean and std per feature)."""
    means = np.stack([x_train[y_train == c].mean(0) for c in range(NUM_CLASSES)])
    stds = np.stack([x_train[y_train == c].std(0) for c in range(NUM_CLASSES)]) + 1e-6
    log_lik = (-0.5 * (((x_test[:, None] - means[None]) / stds[None]) ** 2).sum(-1)
               - np.log(stds).sum(-1)[None])
    return float((log_lik.argmax(1) == y_test).mean())


def f_statistics(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One-way ANOVA F per feature: between-class over within-class variance (about 1 when
    the class does not change the feature's distribution)."""
    groups = [x[y == c] for c in range(NUM_CLASSES)]
    n, k = len(x), len(groups)
    grand = x.mean(0)
    between = sum(len(g) * (g.mean(0) - grand) ** 2 for g in groups) / (k - 1)
    within = sum(((g - g.mean(0)) ** 2).sum(0) for g in groups) / (n - k)
    return between / (within + 1e-12)


@pytest.fixture(scope='module')
def features() -> dict:
    """Features of 40 train + 40 val videos per class (16 frames, 64x64): of one random frame
    of each video (one per video keeps the samples independent) and of its frame differences."""
    out = {}
    pick = np.random.default_rng(0)
    for split in ('train', 'val'):
        frames, motions, labels = [], [], []
        for c, name in enumerate(gen.CLASSES):
            for i in range(40):
                video = gen.render(name, gen.video_rng(1, split, c, i), num_frames=16, size=64)
                frames.append(frame_features(video[pick.integers(len(video))]))
                motions.append(motion_features(video))
                labels.append(c)
        out[split] = (np.array(frames), np.array(motions), np.array(labels))
    return out


def test_single_frames_do_not_tell_the_class(features: dict) -> None:
    x_train, _, y_train = features['train']
    x_val, _, y_val = features['val']
    # per-frame appearance statistics are class-independent: F about 1 for every feature
    stats = f_statistics(np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val]))
    assert np.median(stats) < 2 and stats.max() < 5, stats.round(2)
    # and a classifier on them stays at chance (1/8)
    accuracy = gaussian_nb_accuracy(x_train, y_train, x_val, y_val)
    assert accuracy < 0.2, accuracy


def test_frame_differences_tell_the_class(features: dict) -> None:
    _, m_train, y_train = features['train']
    _, m_val, y_val = features['val']
    assert f_statistics(m_train, y_train).min() > 50
    accuracy = gaussian_nb_accuracy(m_train, y_train, m_val, y_val)
    assert accuracy > 0.9, accuracy
    # each class moves the way its name says (signs of the mean rates)
    means = {name: m_train[y_train == c].mean(0) for c, name in enumerate(gen.CLASSES)}
    assert means['move_right'][0] > 0.5 > -0.5 > means['move_left'][0]
    assert means['move_down'][1] > 0.5 > -0.5 > means['move_up'][1]
    assert means['grow'][2] > 0.01 > -0.01 > means['shrink'][2]
    assert means['rotate_cw'][3] > 0.02 > -0.02 > means['rotate_ccw'][3]


def test_pairs_are_time_reversals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the per-frame noise, a video played backwards is exactly the video of the
    paired class drawn from the same random stream (rotations: up to the start angle)."""
    monkeypatch.setattr(gen, 'NOISE_STD', (0., 0.))
    for a, b in (('move_left', 'move_right'), ('move_up', 'move_down'), ('grow', 'shrink')):
        forward = gen.render(a, np.random.default_rng(3), num_frames=10, size=32)
        backward = gen.render(b, np.random.default_rng(3), num_frames=10, size=32)
        np.testing.assert_array_equal(forward[::-1], backward, err_msg=f'{a}/{b}')
    cw = gen.render('rotate_cw', np.random.default_rng(3), num_frames=10, size=64)
    assert motion_features(cw)[3] > 0.02 > -0.02 > motion_features(cw[::-1])[3]


def test_flip_label_maps_match_the_motion() -> None:
    """Flipping the frames turns a class into the one its flip label map names."""
    for direction, axis in (('horizontal', 2), ('vertical', 1)):
        mapping = gen.flip_label_map(direction)
        for c, name in enumerate(gen.CLASSES):
            video = gen.render(name, gen.video_rng(0, 'val', c, 1), num_frames=12, size=64)
            flipped = motion_features(np.flip(video, axis=axis))
            target = mapping.get(c, c)
            expected = motion_features(video) * {
                'horizontal': np.array([-1, 1, 1, -1]), 'vertical': np.array([1, -1, 1, -1])
            }[direction]
            np.testing.assert_allclose(flipped, expected, rtol=1e-6, atol=1e-6)
            assert dominant_motion(flipped) == gen.CLASSES[target], (name, direction)


def test_motion_errors() -> None:
    with pytest.raises(ValueError, match='unknown class'):
        gen.render('jump', np.random.default_rng(0))
    with pytest.raises(ValueError, match='--size must be between 16 and 256 pixels, got 8'):
        gen.render('grow', np.random.default_rng(0), num_frames=4, size=8)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp('a') / 'motion', num_train=3, num_val=2,
                        num_frames=20, size=32, seed=7)


def _read_list(path: Path) -> list:
    return [line.split() for line in path.read_text().splitlines()]


def test_layout_and_annotations(tiny: Path) -> None:
    decord = pytest.importorskip('decord')
    classes = (tiny / 'classes.txt').read_text().split()
    assert classes == list(gen.CLASSES) == sorted(gen.CLASSES)
    for split, count in (('train', 3), ('val', 2)):
        lines = _read_list(tiny / f'{split}_list.txt')
        assert len(lines) == NUM_CLASSES * count
        for rel, label in lines:
            assert rel.split('/')[0] == classes[int(label)]
            reader = decord.VideoReader(str(tiny / split / rel))
            assert len(reader) == 20
            assert reader[0].shape == (32, 32, 3)


def test_motion_survives_the_video_codec(tmp_path: Path) -> None:
    """The written mp4 (lossy MPEG-4) decodes to the same frames up to compression noise, and
    the motion read from the decoded frames is still the class's motion."""
    decord = pytest.importorskip('decord')
    for c, name in enumerate(gen.CLASSES):
        frames = gen.render(name, gen.video_rng(2, 'val', c, 0), num_frames=16, size=64)
        path = tmp_path / f'{name}.mp4'
        gen.write_video(path, frames)
        decoded = decord.VideoReader(str(path)).get_batch(list(range(16))).asnumpy()
        assert decoded.shape == frames.shape
        error = np.sqrt(((decoded.astype(np.float64) - frames) ** 2).mean())
        other = gen.render(name, gen.video_rng(2, 'val', c, 1), num_frames=16, size=64)
        assert error < 0.5 * np.sqrt(((decoded.astype(np.float64) - other) ** 2).mean())
        assert dominant_motion(motion_features(decoded)) == name


def test_deterministic_for_a_seed(tiny: Path, tmp_path: Path) -> None:
    def video(seed: int, split: str, c: int, i: int) -> np.ndarray:
        return gen.render(gen.CLASSES[c], gen.video_rng(seed, split, c, i), num_frames=6,
                          size=32)

    assert np.array_equal(video(7, 'train', 2, 1), video(7, 'train', 2, 1))
    assert not np.array_equal(video(7, 'train', 2, 1), video(8, 'train', 2, 1))
    assert not np.array_equal(video(7, 'train', 2, 1), video(7, 'val', 2, 1))
    # a video does not depend on how many were asked for
    more = gen.generate(tmp_path / 'more', num_train=4, num_val=1, num_frames=20, size=32, seed=7)
    assert (more / 'train/shrink/shrink_00002.mp4').read_bytes() == (
        tiny / 'train/shrink/shrink_00002.mp4').read_bytes()


def test_config_builds_and_reads_the_data(tiny: Path) -> None:
    pytest.importorskip('mmaction')
    pytest.importorskip('decord')
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS, MODELS

    cfg = Config.fromfile(str(CONFIG))
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    assert cfg.train_dataloader.dataset.ann_file == 'data/motion_video/train_list.txt'
    assert cfg.train_dataloader.num_workers <= 2
    flips = [t for t in cfg.train_pipeline if t.type == 'Flip']
    assert {f.direction: dict(f.flip_label_map) for f in flips} == {
        'horizontal': gen.flip_label_map('horizontal'),
        'vertical': gen.flip_label_map('vertical')}
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        scores, _ = model.extract_feat(torch.randn(2, 1, 3, cfg.num_frames, 64, 64),
                                       stage='head')
    assert scores.shape == (2, NUM_CLASSES)

    data_cfg = cfg.train_dataloader.dataset
    data_cfg.update(ann_file=str(tiny / 'train_list.txt'),
                    data_prefix=dict(video=str(tiny / 'train')))
    dataset = DATASETS.build(data_cfg)
    assert len(dataset) == NUM_CLASSES * 3
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 3, cfg.num_frames, 32, 32)


def test_train_and_test_the_quick_start(tmp_path: Path) -> None:
    """The quick-start config trains (one iteration of 16 videos) and tests (the Runner that
    `mim train` / `mim test` run, in this process), on data written by the generator at the
    place the config reads (relative to the cwd).

    The first loss is the untrained model's, ln(8); ``mim test``'s accuracy equals the one
    computed in this process from the checkpoint on the same videos, with test labels set so
    that exactly half of them are right (``tests.fake_data.half_right_labels``)."""
    pytest.importorskip('mmaction')
    gen.generate(tmp_path / 'data/motion_video', num_train=2, num_val=1, num_frames=32, size=64)
    cfg = load_config(CONFIG)
    shrink_for_test(cfg, checkpoint='weights')
    cfg.train_cfg.max_epochs = 1
    config = write_config(cfg, tmp_path, CONFIG.name)
    work = tmp_path / 'work'
    losses, _ = train_config(config, work, tmp_path, library='mmaction2', mim=False)
    assert losses['loss'] == pytest.approx(math.log(NUM_CLASSES), rel=0.1)

    ckpt = str(work / 'epoch_1.pth')
    labels, expected = half_right_labels(predict_scores(config, ckpt, tmp_path))
    assert len(labels) == NUM_CLASSES
    set_labels(str(tmp_path / 'data/motion_video/val_list.txt'), labels)
    metrics = evaluate_config(config, ckpt, work, tmp_path, library='mmaction2', mim=False)
    for k in (1, 5):  # mmaction2 reports fractions
        assert metrics[f'acc/top{k}'] == pytest.approx(expected / 100, abs=1e-4), metrics
