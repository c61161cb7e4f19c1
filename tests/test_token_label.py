"""Token labeling: label-map loading, crop/flip alignment, head losses and MixToken."""
import os
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
                                              crop_resize_label, dense_token_label)
from mmuniformer.models.classifiers.token_label import (TokenLabelClassifier,  # noqa: E402
                                                        sample_mix_box)
from mmuniformer.models.heads.token_label_head import TokenLabelClsHead  # noqa: E402
from tests.fake_data import write_fake_imagenet  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


# --------------------------------------------------------------------------- dense_token_label
def test_dense_token_label_topk_matches_hand_built():
    k, h, w, num_classes = 3, 2, 2, 6
    scores = np.array([[[0.5, 0.6], [0.7, 0.9]],
                       [[0.3, 0.3], [0.2, 0.05]],
                       [[0.2, 0.1], [0.1, 0.05]]], np.float32)
    index = np.array([[[4, 0], [5, 1]],
                      [[1, 2], [0, 3]],
                      [[0, 5], [2, 4]]], np.float32)
    expected = np.zeros((num_classes, h, w), np.float32)
    # hand-built: location (y, x) gets score scores[j, y, x] at class index[j, y, x]
    expected[4, 0, 0], expected[1, 0, 0], expected[0, 0, 0] = 0.5, 0.3, 0.2
    expected[0, 0, 1], expected[2, 0, 1], expected[5, 0, 1] = 0.6, 0.3, 0.1
    expected[5, 1, 0], expected[0, 1, 0], expected[2, 1, 0] = 0.7, 0.2, 0.1
    expected[1, 1, 1], expected[3, 1, 1], expected[4, 1, 1] = 0.9, 0.05, 0.05
    dense = dense_token_label(np.stack([scores, index]), num_classes)
    assert dense.shape == (num_classes, h, w) and dense.dtype == np.float32
    np.testing.assert_array_equal(dense, expected)
    np.testing.assert_allclose(dense.sum(0), np.ones((h, w)), atol=1e-6)
    assert np.stack([scores, index]).shape == (2, k, h, w)


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
    rng = np.random.default_rng(1)
    topk = np.stack([rng.random((2, 3, 3)), rng.integers(0, 4, (2, 3, 3))]).astype(np.float32)
    topk[1, 1] = (topk[1, 0] + 1) % 4  # distinct indices per location
    np.save(label_root / 'n01' / 'a.npy', topk)
    dense = torch.rand(4, 5, 5)
    torch.save(dense, label_root / 'n02' / 'b.pt')
    t = LoadTokenLabel(label_root=str(label_root), data_prefix=str(img_root), num_classes=4)

    out = t(dict(img_path=str(img_root / 'n01' / 'a.JPEG')))
    np.testing.assert_array_equal(out['token_label'], dense_token_label(topk, 4))
    assert out['token_label'].shape == (4, 3, 3)
    out = t(dict(img_path=str(img_root / 'n02' / 'b.png')))
    np.testing.assert_array_equal(out['token_label'], dense.numpy())

    missing = img_root / 'n02' / 'c.JPEG'
    with pytest.raises(FileNotFoundError) as err:
        t(dict(img_path=str(missing)))
    assert osp.join(str(label_root), 'n02', 'c') + '.npy' in str(err.value)
    assert str(missing) in str(err.value)


# --------------------------------------------------------------------------- crop / resize
def _column_one_hot(h: int, w: int) -> np.ndarray:
    """(w, h, w) label map: class j is 1 exactly in column j."""
    label = np.zeros((w, h, w), np.float32)
    for j in range(w):
        label[j, :, j] = 1
    return label


def test_crop_resize_label_left_half_same_resolution():
    label = _column_one_hot(8, 8)  # 8x8 grid over a 64x64 image: 8 px per cell
    out = crop_resize_label(label, (0, 0, 64, 32), (64, 64), (8, 4))
    assert out.shape == (8, 8, 4)
    np.testing.assert_allclose(out, label[:, :, :4], atol=1e-6)  # exactly the left-half columns


def test_crop_resize_label_left_half_downsampled_is_area_average():
    label = _column_one_hot(8, 8)
    out = crop_resize_label(label, (0, 0, 64, 32), (64, 64), (4, 2))
    expected = np.zeros((8, 4, 2), np.float32)
    expected[[0, 1], :, 0] = 0.5  # output column 0 covers label columns 0-1
    expected[[2, 3], :, 1] = 0.5  # output column 1 covers label columns 2-3
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # a bottom-right crop of a non-square image, rows encode position as well
    label = np.zeros((6, 6, 4), np.float32)
    for i in range(6):
        label[i, i, :] = 1  # class i is 1 in row i
    out = crop_resize_label(label, (30, 20, 60, 40), (60, 40), (3, 2))  # rows 3-5, cols 2-3
    expected = np.zeros((6, 3, 2), np.float32)
    for r in range(3):
        expected[3 + r, r, :] = 1
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_crop_resize_label_4x_downsample_keeps_every_column():
    """Each output cell is the mean of all label cells it covers, also beyond 2x."""
    label = _column_one_hot(4, 16)  # 16 columns over a 64x256 image: 16 px per cell
    out = crop_resize_label(label, (0, 0, 64, 128), (64, 256), (1, 2))  # left half -> 2 cols
    expected = np.zeros((16, 1, 2), np.float32)
    expected[0:4, :, 0] = 0.25
    expected[4:8, :, 1] = 0.25
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # a 16 -> 5 resize (non-integer factor 3.2) loses no column and keeps the mass
    out = crop_resize_label(label, (0, 0, 64, 256), (64, 256), (2, 5))
    np.testing.assert_allclose(out.sum(0), 1, atol=1e-5)
    per_class = out[:, 0].sum(1)  # total weight each label column receives
    assert per_class.min() > 0.5 * 5 / 16 and per_class.max() < 1.5 * 5 / 16, per_class


def test_token_label_resize_whole_map():
    label = _column_one_hot(8, 8)
    out = TokenLabelResize(label_size=4)(dict(token_label=label))['token_label']
    assert out.shape == (8, 4, 4)
    for j in range(4):
        np.testing.assert_allclose(out[2 * j:2 * j + 2, :, j], 0.5, atol=1e-6)
    np.testing.assert_allclose(out.sum(0), 1, atol=1e-6)


@pytest.mark.parametrize('seed', range(6))
def test_random_resized_crop_label_follows_image_box(seed):
    """Image pixels and label cells both encode their (x, y) position; after the
    transform the label map equals the image position averaged over each label
    cell, i.e. both were cropped to the same box."""
    H, W, S, L = 192, 256, 32, 4  # image, output size, label size
    ys, xs = np.meshgrid(np.arange(H) + 0.5, np.arange(W) + 0.5, indexing='ij')
    img = np.stack([xs, ys, np.zeros_like(xs)], -1).astype(np.float32)  # pixel-centre coords
    lh, lw = 48, 64  # 4 px per label cell
    ly, lx = np.meshgrid((np.arange(lh) + 0.5) * H / lh, (np.arange(lw) + 0.5) * W / lw,
                         indexing='ij')
    label = np.stack([lx, ly]).astype(np.float32)
    t = TokenLabelRandomResizedCrop(label_size=L, scale=S, interpolation='bilinear', backend='cv2')
    np.random.seed(seed)
    out = t(dict(img=img, token_label=label, img_shape=img.shape[:2]))
    assert out['img'].shape == (S, S, 3) and out['token_label'].shape == (2, L, L)
    assert out['img_shape'][:2] == (S, S)
    pooled = out['img'][..., :2].reshape(L, S // L, L, S // L, 2).mean((1, 3)).transpose(2, 0, 1)
    # in pixels: a box off by one pixel would be off by >= 1; the 0.05 allows for the
    # label's border padding at the image edge, where the linear ramp is clamped
    np.testing.assert_allclose(out['token_label'], pooled, atol=5e-2)
    # and it is not the whole image: the label spans the crop, less than the image
    span = out['token_label'][0, 0, -1] - out['token_label'][0, 0, 0]
    assert 0 < span < W * (L - 1) / L


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


def _samples(labels, maps):
    samples = []
    for lab, label_map in zip(labels, maps):
        sample = DataSample().set_gt_label(int(lab))
        sample.set_field(label_map.numpy(), 'token_label')
        samples.append(sample)
    return samples


@pytest.mark.parametrize('box', [None, (0, 1, 2, 3), (1, 0, 3, 1)])
def test_head_loss_by_hand(box):
    B, C, h, w, K, smooth = 4, 8, 3, 3, 5, 0.1
    head = _head(dense_weight=0.7, cls_weight=1.3, label_smooth_val=smooth)
    g = torch.Generator().manual_seed(1)
    feat = torch.randn(B, C, h, w, generator=g)
    labels = [2, 0, 4, 1]
    maps = torch.softmax(3 * torch.randn(B, K, h, w, generator=g), dim=1)
    losses = head.loss((feat, ), _samples(labels, maps), mix_box=box)

    lam = 1.0 if box is None else 1 - (box[2] - box[0]) * (box[3] - box[1]) / (h * w)
    W, b = head.fc.weight.double(), head.fc.bias.double()
    Wa, ba = head.aux_fc.weight.double(), head.aux_fc.bias.double()
    f = feat.double()

    def smoothed(label):
        t = torch.full((K, ), smooth / K, dtype=torch.float64)
        t[label] += 1 - smooth
        return t

    loss_cls = 0.
    for i in range(B):
        logits = W @ f[i].mean((1, 2)) + b
        target = lam * smoothed(labels[i]) + (1 - lam) * smoothed(labels[B - 1 - i])
        loss_cls += -(target * torch.log_softmax(logits, 0)).sum()
    loss_cls /= B
    loss_dense = 0.
    for i in range(B):
        for y in range(h):
            for x in range(w):
                inside = box is not None and box[0] <= y < box[2] and box[1] <= x < box[3]
                src = B - 1 - i if inside else i  # prediction swapped back inside the box
                logits = Wa @ f[src, :, y, x] + ba
                loss_dense += -(maps[i, :, y, x].double() * torch.log_softmax(logits, 0)).sum()
    loss_dense /= B * h * w
    assert set(losses) == {'loss_cls', 'loss_dense'}
    torch.testing.assert_close(losses['loss_cls'].double(), 1.3 * loss_cls, atol=1e-5, rtol=0)
    torch.testing.assert_close(losses['loss_dense'].double(), 0.7 * loss_dense, atol=1e-5, rtol=0)


def test_head_loss_wrong_label_size_raises():
    head = _head()
    maps = torch.softmax(torch.randn(2, 5, 4, 4), dim=1)
    with pytest.raises(ValueError, match=r'\(5, 3, 3\).*label_size to 3'):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps))
    maps = torch.softmax(torch.randn(2, 6, 3, 3), dim=1)  # wrong number of classes
    with pytest.raises(ValueError, match=r'\(6, 3, 3\)'):
        head.loss((torch.randn(2, 8, 3, 3), ), _samples([0, 1], maps))


# --------------------------------------------------------------------------- MixToken
def test_sample_mix_box_inside_grid_and_area():
    g = torch.Generator().manual_seed(0)
    for h, w in ((7, 7), (12, 12), (5, 9), (64, 64)):
        for lam in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
            areas = []
            for _ in range(300 if (h, w) == (64, 64) else 60):
                y1, x1, y2, x2 = sample_mix_box(h, w, lam, generator=g)
                assert all(isinstance(v, int) for v in (y1, x1, y2, x2))
                assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
                areas.append((y2 - y1) * (x2 - x1) / (h * w))
                if 0 < y1 and y2 < h and 0 < x1 and x2 < w:  # not clipped by the border
                    assert y2 - y1 == 2 * (int(h * (1 - lam)**0.5) // 2)
                    assert x2 - x1 == 2 * (int(w * (1 - lam)**0.5) // 2)
            assert max(areas) <= 1 - lam + 1e-9
            if (h, w) == (64, 64) and lam >= 0.3:
                # fine grid: the largest (unclipped) box has area ~ 1 - lam
                assert max(areas) == pytest.approx(1 - lam, abs=0.04)
    # lam = 1 gives an empty box, lam = 0 covers at most the whole grid
    assert all((b[2] - b[0]) * (b[3] - b[1]) == 0
               for b in (sample_mix_box(7, 7, 1.0, g) for _ in range(10)))


def test_sample_mix_box_area_tracks_lam_on_average():
    g = torch.Generator().manual_seed(0)
    means = []
    for lam in (0.2, 0.5, 0.8):
        areas = []
        for _ in range(400):
            y1, x1, y2, x2 = sample_mix_box(32, 32, lam, g)
            areas.append((y2 - y1) * (x2 - x1) / 32**2)
        means.append(np.mean(areas))
    assert means[0] > means[1] > means[2] > 0.05
    # clipping at the border only shrinks the box: mean area between (1-lam)/2 and 1-lam
    for lam, m in zip((0.2, 0.5, 0.8), means):
        assert (1 - lam) * 0.4 < m <= 1 - lam


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
    samples = _samples([0, 3, 4], maps)

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
        torch.manual_seed(seed)  # the classifier draws lam first, then the box
        lam = float(torch.distributions.Beta(1.0, 1.0).sample())
        box = sample_mix_box(h, w, lam)
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
    losses = model.loss(torch.randn(2, 3, 64, 64), _samples([1, 2], maps))
    assert seen == [None] and set(losses) == {'loss_cls', 'loss_dense'}


# --------------------------------------------------------------------------- config pipeline
def test_config_384_train_pipeline_packs_token_label(tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS

    root = tmp_path
    write_fake_imagenet(str(root), num_per_split=2, size=72, token_label_hw=12)
    _make_topk_distinct(osp.join(str(root), 'data', 'imagenet_token_label', 'train'))
    monkeypatch.chdir(root)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cls', 'uniformer_s_tl_in1k_384.py'))
    init_default_scope('mmpretrain')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 2
    np.random.seed(0)
    for idx in range(2):
        packed = dataset[idx]
        assert tuple(packed['inputs'].shape) == (3, 384, 384)
        sample = packed['data_samples']
        label = np.asarray(sample.token_label)
        assert label.shape == (1000, 12, 12)
        assert label.min() >= 0
        np.testing.assert_allclose(label.sum(0), np.ones((12, 12)), atol=1e-4)
        # the map carries the sample's class (index 0 of every top-5 list is the label)
        assert (label[int(sample.gt_label)] > 0).all()


def _make_topk_distinct(label_dir: str) -> None:
    """The fake generator draws the top-5 classes with replacement; real top-k lists
    never repeat a class, so give repeated entries unused classes."""
    for dirpath, _, files in os.walk(label_dir):
        for name in files:
            path = osp.join(dirpath, name)
            raw = np.load(path)
            index = raw[1].astype(np.int64)
            k, h, w = index.shape
            for y in range(h):
                for x in range(w):
                    used = []
                    for j in range(k):
                        c = int(index[j, y, x])
                        while c in used:
                            c = (c + 1) % 1000
                        used.append(c)
                        index[j, y, x] = c
            raw[1] = index
            np.save(path, raw)
