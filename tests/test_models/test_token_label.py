"""Token labeling: label-map loading, targets, label-aware augmentation, head losses,
MixToken and the released recipes (Sense-X/UniFormer image_classification/token_labeling)."""
import math
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('mmpretrain')

from mmcv.transforms import RandomFlip  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

import mmuniformer  # noqa: E402,F401  registers the modules
from mmuniformer.datasets.token_label import (LoadTokenLabel, TokenLabelFlip,  # noqa: E402
                                              TokenLabelRandomResizedCrop, TokenLabelResize,
                                              TokenLabelRotate, TokenLabelShear,
                                              TokenLabelTranslate, dense_token_label,
                                              token_label_targets)
from mmuniformer.models.classifiers.token_label import (TokenLabelClassifier,  # noqa: E402
                                                        sample_mix_box)
from mmuniformer.models.heads.token_label_head import TokenLabelClsHead  # noqa: E402
from tests.fake_data import write_fake_imagenet  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the first axis, by hand."""
    e = np.exp(x - x.max(0))
    return e / e.sum(0)


# --------------------------------------------------------------------------- dense_token_label
def test_dense_token_label_topk_matches_hand_built():
    num_classes = 6
    scores = np.array([[[0.5, 0.6], [0.7, 0.9]],
                       [[0.3, 0.3], [0.2, 0.05]],
                       [[0.2, 0.1], [0.1, 0.05]]], np.float32)
    index = np.array([[[4, 0], [5, 1]],
                      [[1, 2], [0, 3]],
                      [[0, 5], [2, 4]]], np.float32)
    expected = np.zeros((num_classes, 2, 2), np.float32)
    # hand-built: location (y, x) gets score scores[j, y, x] at class index[j, y, x], 0 elsewhere
    expected[4, 0, 0], expected[1, 0, 0], expected[0, 0, 0] = 0.5, 0.3, 0.2
    expected[0, 0, 1], expected[2, 0, 1], expected[5, 0, 1] = 0.6, 0.3, 0.1
    expected[5, 1, 0], expected[0, 1, 0], expected[2, 1, 0] = 0.7, 0.2, 0.1
    expected[1, 1, 1], expected[3, 1, 1], expected[4, 1, 1] = 0.9, 0.05, 0.05
    dense = dense_token_label(np.stack([scores, index]), num_classes)
    assert dense.shape == (num_classes, 2, 2) and dense.dtype == np.float32
    np.testing.assert_array_equal(dense, expected)


def test_dense_token_label_dense_format_passes_through():
    rng = np.random.default_rng(0)
    raw = rng.random((7, 3, 4)).astype(np.float64)
    dense = dense_token_label(raw, 7)
    assert dense.dtype == np.float32 and dense.shape == (7, 3, 4)
    np.testing.assert_allclose(dense, raw, rtol=1e-6)


@pytest.mark.parametrize('raw, match', [
    (np.stack([np.ones((2, 3, 3)), np.full((2, 3, 3), 6.)]), 'out of range'),
    (np.stack([np.ones((2, 3, 3)), np.full((2, 3, 3), -1.)]), 'out of range'),
    (np.zeros((5, 3, 3)), r'\(2, k, h, w\) or \(6, h, w\)'),
    (np.zeros((3, 2, 3, 3)), r'got \(3, 2, 3, 3\)'),
    (np.zeros((6, 3)), r'got \(6, 3\)'),
])
def test_dense_token_label_errors(raw, match):
    with pytest.raises(ValueError, match=match):
        dense_token_label(raw, 6)


# --------------------------------------------------------------------------- LoadTokenLabel
def test_load_token_label_npy_and_pt(tmp_path):
    img_root = tmp_path / 'images' / 'train'
    label_root = tmp_path / 'labels' / 'train'
    for sub in ('n01', 'n02'):
        (img_root / sub).mkdir(parents=True)
        (label_root / sub).mkdir(parents=True)
    # top-2 over a 1x2 grid, 4 classes: cell 0 -> class 3: 2.5, class 1: -1; cell 1 -> 0: 7, 2: 0.5
    topk = np.array([[[[2.5, 7.0]], [[-1.0, 0.5]]],
                     [[[3, 0]], [[1, 2]]]], np.float32)
    np.save(label_root / 'n01' / 'a.npy', topk)
    dense = torch.rand(4, 5, 5)
    torch.save(dense, label_root / 'n02' / 'b.pt')
    t = LoadTokenLabel(label_root=str(label_root), data_prefix=str(img_root), num_classes=4)

    out = t(dict(img_path=str(img_root / 'n01' / 'a.JPEG')))
    expected = np.zeros((4, 1, 2), np.float32)
    expected[3, 0, 0], expected[1, 0, 0], expected[0, 0, 1], expected[2, 0, 1] = 2.5, -1.0, 7.0, 0.5
    np.testing.assert_array_equal(out['token_label'], expected)
    out = t(dict(img_path=str(img_root / 'n02' / 'b.png')))
    np.testing.assert_array_equal(out['token_label'], dense.numpy())

    missing = img_root / 'n02' / 'c.JPEG'
    with pytest.raises(FileNotFoundError) as err:
        t(dict(img_path=str(missing)))
    assert osp.join(str(label_root), 'n02', 'c') + '.npy' in str(err.value)
    assert str(missing) in str(err.value)


# --------------------------------------------------------------------------- targets
# 3 classes on a 4x4 grid over a 40x40 image (10 px per cell); logits, i.e. scores before softmax
LOGITS = np.stack([np.arange(16, dtype=np.float32).reshape(4, 4) / 4,
                   np.array([[2, 0, 1, 3], [0, 1, 0, 2], [1, 3, 2, 0], [2, 1, 0, 1]], np.float32),
                   -np.arange(16, dtype=np.float32).reshape(4, 4).T / 5])


def test_targets_of_hand_made_map_cell_aligned_crop():
    # top-left quarter (rows/cols 0-1) at 2x2: each token is one cell; the crop target is the
    # softmax of the mean logit over the 4 cells
    tokens, crop = token_label_targets(LOGITS, (0, 0, 20, 20), (40, 40), (2, 2))
    assert tokens.shape == (3, 2, 2) and crop.shape == (3, )
    np.testing.assert_allclose(tokens, _softmax(LOGITS[:, :2, :2]), atol=1e-6)
    np.testing.assert_allclose(crop, _softmax(LOGITS[:, :2, :2].mean((1, 2))), atol=1e-6)
    # the whole image at 1x1 and 2x2: means over all 16 cells / over each 2x2 quadrant
    tokens, crop = token_label_targets(LOGITS, (0, 0, 40, 40), (40, 40), (2, 2))
    quads = LOGITS.reshape(3, 2, 2, 2, 2).mean((2, 4))
    np.testing.assert_allclose(tokens, _softmax(quads), atol=1e-6)
    np.testing.assert_allclose(crop, _softmax(LOGITS.mean((1, 2))), atol=1e-6)
    # TokenLabelResize is the whole-image case
    out = TokenLabelResize(label_size=2)(dict(token_label=LOGITS.copy()))
    np.testing.assert_allclose(out['token_label'], _softmax(quads), atol=1e-6)
    np.testing.assert_allclose(out['token_label_cls'], _softmax(LOGITS.mean((1, 2))), atol=1e-6)


def test_targets_of_hand_made_map_between_cells():
    # rows 10-30 px, cols 5-25 px: in cell units rows 1..3, cols 0.5..2.5; RoI-align samples
    # 2x2 points per 1x1 output at rows 1, 2 (cell centres) and cols 0.5, 1.5 (half-way between
    # cells: bilinear = mean of the two neighbours)
    tokens, crop = token_label_targets(LOGITS, (10, 5, 30, 25), (40, 40), (1, 1))
    rows = LOGITS[:, 1:3]
    logit = ((rows[:, :, 0] + rows[:, :, 1]) / 2 + (rows[:, :, 1] + rows[:, :, 2]) / 2).mean(1) / 2
    np.testing.assert_allclose(crop, _softmax(logit), atol=1e-6)
    np.testing.assert_allclose(tokens[:, 0, 0], _softmax(logit), atol=1e-6)


def test_targets_box_order():
    # top half, full width, at 1x2: token j = mean over rows 0-1 of columns 2j, 2j+1
    tokens, _ = token_label_targets(LOGITS, (0, 0, 20, 40), (40, 40), (1, 2))
    for j in range(2):
        np.testing.assert_allclose(tokens[:, 0, j], _softmax(LOGITS[:, :2, 2 * j:2 * j + 2].mean((1, 2))),
                                   atol=1e-6)
    # the released code's order reads the box transposed: left half, full height, in 1x2 bins
    # 4 cells high and 1 wide: token j = mean over all rows of column j
    tokens, _ = token_label_targets(LOGITS, (0, 0, 20, 40), (40, 40), (1, 2), official_box_order=True)
    for j in range(2):
        np.testing.assert_allclose(tokens[:, 0, j], _softmax(LOGITS[:, :, j].mean(1)), atol=1e-6)


def test_target_transforms_without_score_map_raise():
    img = np.zeros((40, 40, 3), np.uint8)
    for t in (TokenLabelRandomResizedCrop(label_size=2, scale=8), TokenLabelResize(label_size=2)):
        with pytest.raises(KeyError, match='mmuniformer.LoadTokenLabel earlier'):
            t(dict(img=img, img_shape=(40, 40)))


@pytest.mark.parametrize('seed', range(4))
def test_random_resized_crop_targets_follow_image_box(seed):
    """Image pixels hold their (x, y) position; the label logits of class pairs (0, 1) and
    (2, 3) are -+a*x and -+a*y at each cell centre, so log(p1 / p0) / 2a of each token is
    the mean x over the token's region. It must match the image crop's pooled x (and y)."""
    H, W, S, L = 192, 256, 32, 4  # image, output size, label size
    ys, xs = np.meshgrid(np.arange(H) + 0.5, np.arange(W) + 0.5, indexing='ij')
    img = np.stack([xs, ys, np.zeros_like(xs)], -1).astype(np.float32)  # pixel-centre coords
    lh, lw, a = 48, 64, 0.01  # 4 px per label cell
    ly, lx = np.meshgrid((np.arange(lh) + 0.5) * H / lh, (np.arange(lw) + 0.5) * W / lw,
                         indexing='ij')
    label = np.stack([-a * lx, a * lx, -a * ly, a * ly]).astype(np.float32)
    t = TokenLabelRandomResizedCrop(label_size=L, scale=S, interpolation='bilinear', backend='cv2')
    np.random.seed(seed)
    out = t(dict(img=img, token_label=label, img_shape=img.shape[:2]))
    assert out['img'].shape == (S, S, 3) and out['token_label'].shape == (4, L, L)
    assert out['token_label_cls'].shape == (4, )
    np.testing.assert_allclose(out['token_label'].sum(0), 1, atol=1e-5)
    p = out['token_label'].astype(np.float64)
    mean_x = np.log(p[1] / p[0]) / (2 * a)
    mean_y = np.log(p[3] / p[2]) / (2 * a)
    pooled = out['img'][..., :2].reshape(L, S // L, L, S // L, 2).mean((1, 3))
    # within 2 px (half a label cell; RoI-align clamps samples past the map's border); a
    # transposed or shifted box is off by far more
    np.testing.assert_allclose(mean_x, pooled[..., 0], atol=2)
    np.testing.assert_allclose(mean_y, pooled[..., 1], atol=2)


# --------------------------------------------------------------------------- flip
@pytest.mark.parametrize('direction, axis', [('horizontal', 2), ('vertical', 1)])
def test_flip_mirrors_label_with_image(direction, axis):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    label = rng.random((5, 3, 4)).astype(np.float32)
    flip, tl_flip = RandomFlip(prob=0.5, direction=direction), TokenLabelFlip()
    seen = set()
    for seed in range(12):
        np.random.seed(seed)
        out = tl_flip(flip(dict(img=img.copy(), token_label=label.copy())))
        seen.add(out['flip'])
        if out['flip']:
            assert out['flip_direction'] == direction
            np.testing.assert_array_equal(out['img'], np.flip(img, axis - 1))
            np.testing.assert_array_equal(out['token_label'], np.flip(label, axis))
        else:
            np.testing.assert_array_equal(out['img'], img)
            np.testing.assert_array_equal(out['token_label'], label)
    assert seen == {True, False}


def test_flip_unsupported_direction_raises():
    with pytest.raises(ValueError, match='diagonal'):
        TokenLabelFlip()(dict(token_label=np.zeros((2, 3, 3), np.float32), flip=True,
                              flip_direction='diagonal'))


# --------------------------------------------------------------------------- label-aware RandAugment
def _grid_sample(h: int = 4, w: int = 4, cell: int = 10):
    """Image whose pixels hold 1 + the id of their label cell; label map of one-hot cell ids."""
    ids = np.arange(h * w).reshape(h, w)
    img = np.repeat(np.repeat(ids + 1, cell, 0), cell, 1).astype(np.uint8)
    img = np.stack([img] * 3, -1)
    label = (ids[None] == np.arange(h * w)[:, None, None]).astype(np.float32)
    return img, label


def _cell_ids(label: np.ndarray) -> np.ndarray:
    """1 + the class of each cell's one-hot, 0 where the cell is all zero."""
    return np.where(label.max(0) > 0, label.argmax(0) + 1, 0)


def test_translate_label_by_one_cell():
    img, label = _grid_sample()
    t = TokenLabelTranslate(magnitude=0.25, prob=1.0, random_negative_prob=0.0, pad_val=0,
                            direction='horizontal')
    out = t(dict(img=img.copy(), token_label=label.copy()))
    # 0.25 of 40 px = one cell to the right; the first column comes from outside
    expected = np.zeros_like(label)
    expected[:, :, 1:] = label[:, :, :-1]
    np.testing.assert_array_equal(out['token_label'], expected)
    np.testing.assert_array_equal(out['img'][:, 10:], img[:, :-10])


def test_rotate_label_90_degrees_clockwise():
    img, label = _grid_sample()
    t = TokenLabelRotate(angle=90.0, prob=1.0, random_negative_prob=0.0, pad_val=0)
    out = t(dict(img=img.copy(), token_label=label.copy()))
    # mmpretrain: positive angles rotate clockwise
    np.testing.assert_array_equal(out['img'], np.rot90(img, -1))
    np.testing.assert_array_equal(out['token_label'], np.rot90(label, -1, axes=(1, 2)))


def test_shear_label_by_hand():
    img, label = _grid_sample()
    t = TokenLabelShear(magnitude=0.5, prob=1.0, random_negative_prob=0.0, pad_val=0,
                        direction='horizontal')
    out = t(dict(img=img.copy(), token_label=label.copy()))
    # output pixel (x, y) comes from x - 0.5 y; cell centres (10c + 4.5, 10r + 4.5) come from
    # cells c, c - 1, c - 1, c - 2 in rows 0..3
    ids = np.arange(16).reshape(4, 4) + 1
    expected = np.zeros((4, 4), np.int64)
    for r, shift in enumerate((0, 1, 1, 2)):
        expected[r, shift:] = ids[r, :4 - shift]
    np.testing.assert_array_equal(_cell_ids(out['token_label']), expected)


@pytest.mark.parametrize('op', [
    dict(type=TokenLabelRotate, magnitude_range=(0, 30)),
    dict(type=TokenLabelShear, magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type=TokenLabelShear, magnitude_range=(0, 0.3), direction='vertical'),
    dict(type=TokenLabelTranslate, magnitude_range=(0, 0.45), direction='horizontal'),
    dict(type=TokenLabelTranslate, magnitude_range=(0, 0.45), direction='vertical'),
])
def test_geometric_ops_keep_label_aligned_with_image(op):
    """The warped label's cell id equals the (nearest-interpolated) image's id at each cell
    centre, for random magnitudes and signs, on a non-square image (9 px cells: centres on
    pixels)."""
    op = dict(op)
    cls = op.pop('type')
    t = cls(prob=1.0, magnitude_level=9, magnitude_std=0.5, pad_val=0, interpolation='nearest', **op)
    img, label = _grid_sample(5, 7, 9)
    agree = total = 0
    for seed in range(10):
        np.random.seed(seed)
        out = t(dict(img=img.copy(), token_label=label.copy()))
        at_centres = out['img'][4::9, 4::9, 0].astype(np.int64)
        ids = _cell_ids(out['token_label'])
        agree += (ids == at_centres).sum()
        total += ids.size
        assert not np.array_equal(ids, _cell_ids(label))  # it did move
    assert agree / total > 0.95, agree / total


def test_rand_augment_with_label_aware_policies_from_config():
    from mmengine.config import Config
    from mmpretrain.registry import TRANSFORMS
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'in1k_token_label_224.py'))
    names = [p['type'] for p in cfg.rand_augment_policies]
    assert len(names) == 15  # timm's increasing op set
    assert {'mmuniformer.TokenLabelRotate', 'mmuniformer.TokenLabelShear',
            'mmuniformer.TokenLabelTranslate'} <= set(names)
    assert not {'Rotate', 'Shear', 'Translate'} & set(names)
    ra = TRANSFORMS.build(dict(type='RandAugment', policies=cfg.rand_augment_policies, num_policies=2,
                               total_level=10, magnitude_level=9, magnitude_std=0.5,
                               hparams=dict(pad_val=0, interpolation='nearest')))
    geometric = {i for i, n in enumerate(names) if n.startswith('mmuniformer.')}
    img, label = _grid_sample(5, 7, 9)
    moved = 0
    for seed in range(30):
        np.random.seed(seed)
        chosen = set(ra.random_policy_indices())
        np.random.seed(seed)  # the same draw again, inside the transform
        out = ra(dict(img=img.copy(), token_label=label.copy()))
        if not np.array_equal(out['token_label'], label):
            moved += 1
            assert chosen & geometric, [names[i] for i in chosen]
    assert moved >= 3


# --------------------------------------------------------------------------- head
def _head(**kwargs) -> TokenLabelClsHead:
    torch.manual_seed(0)
    head = TokenLabelClsHead(num_classes=5, in_channels=8, **kwargs)
    head.init_weights()
    with torch.no_grad():  # non-trivial biases
        head.fc.bias.normal_()
        head.aux_fc.bias.normal_()
    return head


def test_head_inference_score_by_hand():
    head = _head()
    feat = torch.randn(3, 8, 2, 3)
    score = head((feat, ))
    for i in range(3):
        pooled = feat[i].double().mean((1, 2))
        cls = head.fc.weight.double() @ pooled + head.fc.bias.double()
        aux = torch.stack([head.aux_fc.weight.double() @ feat[i, :, y, x].double()
                           + head.aux_fc.bias.double() for y in range(2) for x in range(3)])
        expected = cls + 0.5 * aux.max(0)[0]
        torch.testing.assert_close(score[i].double(), expected, atol=1e-5, rtol=0)


def _samples(labels, maps, crops=None):
    samples = []
    for i, (lab, label_map) in enumerate(zip(labels, maps)):
        sample = DataSample().set_gt_label(int(lab))
        sample.set_field(label_map.numpy(), 'token_label')
        if crops is not None:
            sample.set_field(crops[i].numpy(), 'token_label_cls')
        samples.append(sample)
    return samples


@pytest.mark.parametrize('box, ground_truth', [(None, False), ((0, 1, 2, 3), False),
                                               ((1, 0, 3, 1), False), (None, True),
                                               ((0, 0, 2, 2), True)])
def test_head_loss_by_hand(box, ground_truth):
    B, C, h, w, K, smooth = 4, 8, 3, 3, 5, 0.1
    head = _head(dense_weight=0.7, cls_weight=1.3, label_smooth_val=smooth,
                 use_ground_truth=ground_truth)
    g = torch.Generator().manual_seed(1)
    feat = torch.randn(B, C, h, w, generator=g)
    labels = [2, 0, 4, 1]
    maps = torch.softmax(3 * torch.randn(B, K, h, w, generator=g), dim=1)
    # annotator's crop distributions: top class 2, 3, 4, 1 (agrees with the label for 0, 2, 3)
    crops = torch.full((B, K), 0.1)
    for i, top in enumerate([2, 3, 4, 1]):
        crops[i, top] = 0.6
    losses = head.loss((feat, ), _samples(labels, maps, crops), mix_box=box)

    lam = 1.0 if box is None else 1 - (box[2] - box[0]) * (box[3] - box[1]) / (h * w)
    off, on = smooth / K, 1 - smooth + smooth / K
    W, b = head.fc.weight.double(), head.fc.bias.double()
    Wa, ba = head.aux_fc.weight.double(), head.aux_fc.bias.double()
    f = feat.double()

    def cls_target(i):
        t = crops[i].double() * on + off
        if ground_truth:
            y = torch.full((K, ), off, dtype=torch.float64)
            y[labels[i]] = on
            r = 0.5 if i in (0, 2, 3) else 0.9  # official: 0.9 - 0.4 * (same arg-max)
            t = r * t + (1 - r) * y
        return t

    loss_cls = 0.
    for i in range(B):
        logits = W @ f[i].mean((1, 2)) + b
        target = lam * cls_target(i) + (1 - lam) * cls_target(B - 1 - i)
        loss_cls += -(target * torch.log_softmax(logits, 0)).sum()
    loss_cls /= B
    loss_dense = 0.
    for i in range(B):
        for y in range(h):
            for x in range(w):
                inside = box is not None and box[0] <= y < box[2] and box[1] <= x < box[3]
                src = B - 1 - i if inside else i  # prediction swapped back inside the box
                logits = Wa @ f[src, :, y, x] + ba
                target = maps[i, :, y, x].double() * on + off
                loss_dense += -(target * torch.log_softmax(logits, 0)).sum()
    loss_dense /= B * h * w
    assert set(losses) == {'loss_cls', 'loss_dense'}
    torch.testing.assert_close(losses['loss_cls'].double(), 1.3 * loss_cls, atol=1e-5, rtol=0)
    torch.testing.assert_close(losses['loss_dense'].double(), 0.7 * loss_dense, atol=1e-5, rtol=0)


def test_head_loss_bad_targets_raise():
    head = _head()
    crops = torch.full((2, 5), 0.2)
    maps = torch.softmax(torch.randn(2, 5, 4, 4), dim=1)
    with pytest.raises(ValueError, match=r'\(5, 3, 3\).*label_size to 3'):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps, crops))
    maps = torch.softmax(torch.randn(2, 6, 3, 3), dim=1)  # wrong number of classes
    with pytest.raises(ValueError, match=r'\(6, 3, 3\)'):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps, crops))
    maps = torch.softmax(torch.randn(2, 5, 3, 3), dim=1)
    with pytest.raises(ValueError, match=r"lack \['token_label_cls'\].*algorithm_keys"):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps))
    with pytest.raises(ValueError, match=r'token_label_cls has shape \(4,\)'):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps, crops[:, :4]))


# --------------------------------------------------------------------------- MixToken
def _official_area_pmf(n: int = 56, ratio: int = 8) -> dict:
    """Exact distribution of the last-grid box area under the official rule, lam ~ U(0, 1):
    side c = int(n * sqrt(1 - lam)) has P(c) = ((c + 1)^2 - c^2) / n^2 (1 - lam is uniform);
    the centre is uniform and independent per axis; the box is clipped and divided by 8."""
    pmf = {}
    for c in range(n):
        p_c = ((c + 1) ** 2 - c ** 2) / n ** 2
        sides = np.zeros(n // ratio + 1)
        for centre in range(n):
            lo, hi = max(centre - c // 2, 0), min(centre + c // 2, n)
            sides[hi // ratio - lo // ratio] += 1 / n
        for sy, py in enumerate(sides):
            for sx, px in enumerate(sides):
                if py * px:
                    pmf[sy * sx] = pmf.get(sy * sx, 0.0) + p_c * py * px
    return pmf


def test_sample_mix_box_area_distribution_matches_official_rule():
    exact = _official_area_pmf()
    assert abs(sum(exact.values()) - 1) < 1e-9
    g = torch.Generator().manual_seed(0)
    n = 20000
    counts, sides = {}, []
    for _ in range(n):
        lam = float(torch.rand(1, generator=g))  # Beta(1, 1)
        y1, x1, y2, x2 = sample_mix_box(56, 56, lam, generator=g)
        assert 0 <= y1 <= y2 <= 7 and 0 <= x1 <= x2 <= 7
        area = (y2 - y1) * (x2 - x1)
        counts[area] = counts.get(area, 0) + 1
        sides += [y2 - y1, x2 - x1]
    tv = 0.5 * sum(abs(counts.get(a, 0) / n - exact.get(a, 0)) for a in set(counts) | set(exact))
    assert tv < 0.03, tv
    # every side length 0..7 occurs, odd ones and the full grid included
    assert set(sides) == set(range(8))
    assert exact.get(49, 0) > 0 and counts.get(49, 0) > 0


def test_sample_mix_box_lam_limits_and_errors():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):  # lam = 1: empty box; lam = 0: side 56 clipped, at least half the grid
        y1, x1, y2, x2 = sample_mix_box(56, 56, 1.0, generator=g)
        assert (y2 - y1) * (x2 - x1) == 0
        y1, x1, y2, x2 = sample_mix_box(56, 56, 0.0, generator=g)
        assert y2 - y1 >= 3 and x2 - x1 >= 3
    with pytest.raises(ValueError, match=r'lam must be in \[0, 1\]'):
        sample_mix_box(56, 56, 1.5)


def _classifier() -> TokenLabelClassifier:
    torch.manual_seed(0)
    model = TokenLabelClassifier(
        backbone=dict(type='mmuniformer.UniFormer', arch=TINY),
        head=dict(type='mmuniformer.TokenLabelClsHead', num_classes=5, in_channels=128))
    model.init_weights()
    return model.train()


def test_classifier_mixtoken_box_and_stage1_swap():
    model = _classifier()
    B, H, W = 3, 128, 160
    h, w = H // 32, W // 32
    g = torch.Generator().manual_seed(2)
    inputs = torch.randn(B, 3, H, W, generator=g)
    maps = torch.softmax(torch.randn(B, 5, h, w, generator=g), dim=1)
    crops = torch.softmax(torch.randn(B, 5, generator=g), dim=1)
    samples = _samples([0, 3, 4], maps, crops)

    calls = {}
    bb_forward, head_loss = model.backbone.forward, model.head.loss

    def backbone(x, mix_box=None):
        calls['backbone_box'] = mix_box
        return bb_forward(x, mix_box=mix_box)

    def loss(feats, data_samples, mix_box=None, **kwargs):
        calls['head_box'] = mix_box
        return head_loss(feats, data_samples, mix_box=mix_box, **kwargs)

    model.backbone.forward, model.head.loss = backbone, loss
    model.backbone.patch_embed1.register_forward_hook(
        lambda m, a, out: calls.__setitem__('embed', out.detach().clone()))
    model.backbone.blocks1[0].register_forward_pre_hook(
        lambda m, a: calls.__setitem__('block_in', a[0].detach().clone()))

    non_empty = 0
    for seed in range(6):
        torch.manual_seed(seed)
        losses = model.loss(inputs, samples)
        assert all(torch.isfinite(v) for v in losses.values())
        torch.manual_seed(seed)  # the classifier draws lam first, then the box on the 32x40 grid
        lam = float(torch.distributions.Beta(1.0, 1.0).sample())
        box = sample_mix_box(H // 4, W // 4, lam)
        assert calls['head_box'] == box
        assert tuple(calls['backbone_box']) == tuple(8 * v for v in box)
        y1, x1, y2, x2 = (8 * v for v in box)
        emb = calls['embed']
        assert emb.shape[-2:] == (H // 4, W // 4)
        expected = emb.clone()
        expected[..., y1:y2, x1:x2] = emb.flip(0)[..., y1:y2, x1:x2]
        torch.testing.assert_close(calls['block_in'], expected, atol=0, rtol=0)
        if (y2 - y1) * (x2 - x1) > 0:
            non_empty += 1
            inside = calls['block_in'][0, :, y1:y2, x1:x2]
            assert not torch.allclose(inside, emb[0, :, y1:y2, x1:x2])
            torch.testing.assert_close(inside, emb[B - 1, :, y1:y2, x1:x2], atol=0, rtol=0)
        # the head's loss on the returned features equals the classifier's
        with torch.no_grad():
            feats = bb_forward(inputs, mix_box=calls['backbone_box'])
            ref = head_loss(feats, samples, mix_box=box)
        for k in ref:
            torch.testing.assert_close(losses[k], ref[k], atol=1e-6, rtol=1e-6)
    assert non_empty >= 3


def test_classifier_without_mixtoken_uses_plain_backbone():
    model = _classifier()
    model.mix_token = False
    seen = []
    bb_forward = model.backbone.forward

    def backbone(x, mix_box=None):
        seen.append(mix_box)
        return bb_forward(x)

    model.backbone.forward = backbone
    maps = torch.softmax(torch.randn(2, 5, 2, 2), dim=1)
    crops = torch.softmax(torch.randn(2, 5), dim=1)
    samples = _samples([1, 2], maps, crops)
    x = torch.randn(2, 3, 64, 64)
    losses = model.loss(x, samples)
    assert seen == [None]
    with torch.no_grad():  # no mixing: the head's loss on the plain features
        ref = model.head.loss(bb_forward(x), samples)
    assert set(losses) == set(ref) == {'loss_cls', 'loss_dense'}
    for k in ref:
        torch.testing.assert_close(losses[k], ref[k], atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------- configs
def _write_label_maps(root: str, hw: int) -> None:
    """Top-5 score maps where the image's own class scores 10 and four others 0..3."""
    import os
    base = osp.join(root, 'data', 'imagenet')
    for line in open(osp.join(base, 'meta', 'train.txt')).read().split('\n'):
        if not line:
            continue
        rel, label = line.split()
        path = osp.join(root, 'data', 'imagenet_token_label', 'train', rel[:-5] + '.npy')
        os.makedirs(osp.dirname(path), exist_ok=True)
        others = [c for c in (10, 20, 30, 40) if c != int(label)]
        scores = np.broadcast_to(np.array([10., 3., 2., 1., 0.])[:, None, None], (5, hw, hw))
        index = np.broadcast_to(np.array([int(label)] + others)[:, None, None], (5, hw, hw))
        np.save(path, np.stack([scores, index]).astype(np.float32))


@pytest.mark.parametrize('config, size, label_hw', [('uniformer_s_tl_in1k.py', 224, 7),
                                                    ('uniformer_s_tl_in1k_384.py', 384, 12)])
def test_config_train_pipeline_packs_targets(tmp_path, monkeypatch, config, size, label_hw):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS

    write_fake_imagenet(str(tmp_path), num_per_split=2, size=72, labels=(3, 997))
    _write_label_maps(str(tmp_path), 15)  # the official maps are 15x15, whatever the input size
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cls', config))
    init_default_scope('mmpretrain')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 2
    np.random.seed(0)
    for idx in range(2):
        packed = dataset[idx]
        assert tuple(packed['inputs'].shape) == (3, size, size)
        sample = packed['data_samples']
        tokens, crop = np.asarray(sample.token_label), np.asarray(sample.token_label_cls)
        assert tokens.shape == (1000, label_hw, label_hw) and crop.shape == (1000, )
        np.testing.assert_allclose(tokens.sum(0), 1, atol=1e-4)
        np.testing.assert_allclose(crop.sum(), 1, atol=1e-4)
        gt = int(sample.gt_label)
        # the annotator's class (logit 10, others <= 3, cells warped in from outside the image
        # all 0) is the top class of the crop target and of most tokens
        assert crop.argmax() == gt
        assert (tokens.argmax(0) == gt).mean() > 0.5


def _lrs(cfg, epochs: int, epoch_length: int = 20):
    """lr at the first iteration of each epoch under cfg.param_scheduler."""
    from mmengine.registry import PARAM_SCHEDULERS
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        cls = PARAM_SCHEDULERS.get(s.pop('type'))
        if s.pop('convert_to_iter_based', False):
            schedulers.append(cls.build_iter_from_epoch(opt, **s, epoch_length=epoch_length))
        else:
            s['by_epoch'] = False  # step it per iteration, as the runner steps epochs
            for k in ('begin', 'end'):
                if k in s:
                    s[k] *= epoch_length
            schedulers.append(cls(opt, **s))
    lrs = []
    for it in range(epochs * epoch_length):
        if it % epoch_length == 0:
            lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        for s in schedulers:
            s.step()
    return lrs


def test_config_224_recipe_matches_released_scripts():
    import warnings
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cls', 'uniformer_s_tl_in1k.py'))
    assert cfg.train_cfg.max_epochs == 310  # 300 + --cooldown-epochs 10
    ema = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    assert len(ema) == 1 and ema[0]['momentum'] == pytest.approx(1 - 0.99992)
    assert ema[0]['update_buffers'] is True
    assert cfg.model.head.use_ground_truth is False
    assert cfg.train_dataloader.dataset.pipeline[-1]['algorithm_keys'] == ['token_label',
                                                                          'token_label_cls']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        lrs = _lrs(cfg, 310)
    assert lrs[0] == pytest.approx(1e-6)  # --warmup-lr
    assert lrs[5] == pytest.approx(1.6e-3)
    assert lrs[150] == pytest.approx(1e-5 + (1.6e-3 - 1e-5) * (1 + math.cos(math.pi * 145 / 295)) / 2,
                                     rel=1e-3)
    for e in range(300, 310):  # cool-down at --min-lr
        assert lrs[e] == pytest.approx(1e-5, rel=1e-3)
    large = Config.fromfile(osp.join(REPO, 'configs', 'cls', 'uniformer_l_ls_tl_in1k.py'))
    assert large.optim_wrapper.optimizer.lr == 1.2e-3 and large.train_cfg.max_epochs == 310
    assert [h['momentum'] for h in large.custom_hooks] == [pytest.approx(8e-5)]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        lrs = _lrs(large, 310, epoch_length=5)
    assert lrs[0] == pytest.approx(1e-6) and lrs[5] == pytest.approx(1.2e-3)
    assert lrs[305] == pytest.approx(1e-5, rel=1e-2)


@pytest.mark.parametrize('config', ['uniformer_s_tl_in1k_384.py', 'uniformer_b_tl_in1k_384.py'])
def test_config_384_recipe_matches_released_scripts(config):
    import warnings
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cls', config))
    assert cfg.train_cfg.max_epochs == 60  # --epochs 50 + --cooldown-epochs 10
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-8
    assert not [h for h in cfg.get('custom_hooks', []) if h['type'] == 'EMAHook']
    assert cfg.train_dataloader.batch_size * 8 == 512
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        lrs = _lrs(cfg, 60)
    assert lrs == [pytest.approx(5e-6)] * 60  # constant, no warm-up
