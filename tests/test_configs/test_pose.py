"""configs/pose through mim: one training iteration and a validation pass (the test loop's
model, data and CocoMetric) of every config with `mim train mmpose`, and `mim test mmpose` of
the contract configs: topdown_uniformer_s_256x192 on a checkpoint converted from the released
mmpose-0.x layout (no missing or unexpected key), topdown_uniformer_b_384x288 on the checkpoint
its training saved. Inputs at 128x96 (heatmaps 32x24; the backbone needs multiples of 32), the
configs' sigma, on generated stick-figure data."""
import glob
import math
import os
import os.path as osp
import re
import time

import pytest

pytest.importorskip('mmpose')

from tests.conftest import REPO, load_module, run_mim  # noqa: E402

POSE_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'pose', '*.py')))
SMALL = dict(input_size=(96, 128), heatmap_size=(24, 32))  # (W, H)


def _shrink_codec(obj):
    """Set every codec / affine size in a config subtree to SMALL (in place)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in SMALL:
                obj[key] = SMALL[key]
            else:
                _shrink_codec(value)
    elif isinstance(obj, list):
        for item in obj:
            _shrink_codec(item)


def _small_config(config, data_root, work_dir):
    """The config on ``data_root`` (generated stick figures, ground-truth boxes), at 128x96
    input and 32x24 heatmaps, full precision (no GPU), no ImageNet checkpoint, batch 8
    (one iteration per epoch), validation after the epoch."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'),
                          ('test_dataloader', 'val')):
        cfg[loader].update(batch_size=8, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.update(
            data_root=data_root, ann_file=f'annotations/person_keypoints_{split}.json',
            data_prefix=dict(img=f'{split}/'))
        if split == 'val':
            cfg[loader].dataset.bbox_file = None
        _shrink_codec(cfg[loader].dataset.pipeline)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = osp.join(data_root, 'annotations/person_keypoints_val.json')
    _shrink_codec(cfg.model)
    cfg.model.backbone.init_cfg = None
    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper needs a GPU
    cfg.optim_wrapper.pop('loss_scale')
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    path = osp.join(work_dir, osp.basename(config))
    cfg.dump(path)
    return path, cfg


@pytest.fixture(scope='module')
def stick(tmp_path_factory):
    gen = load_module(osp.join(REPO, 'tools', 'data', 'make_coco_keypoints.py'))
    root = tmp_path_factory.mktemp('pose') / 'stick_coco'
    # one training image (1-3 people: one batch of 8), one validation image
    gen.generate(root, num_train=1, num_val=1, size=(128, 128), seed=2)
    return str(root)


def _mim(args, cwd):
    """`mim *args` in cwd (conftest.run_mim) and its wall time in seconds."""
    start = time.time()
    return run_mim(args, cwd, timeout=1800), time.time() - start


def _ap(out):
    found = re.findall(r'coco/AP: (-?[0-9.]+)', out)
    assert found, out[-3000:]
    return float(found[-1])


@pytest.mark.slow
@pytest.mark.parametrize('config', POSE_CONFIGS, ids=[osp.basename(p) for p in POSE_CONFIGS])
def test_mim_train_validate_and_test(config, stick, tmp_path):
    work = str(tmp_path / 'work')
    os.makedirs(work)
    small, cfg = _small_config(config, stick, work)
    out, train_s = _mim(['train', 'mmpose', small, '--work-dir', work], str(tmp_path))
    match = re.search(r'Epoch\(train\)\s+\[1\]\[1/1\].*? loss: ([0-9.na]+)', out)
    assert match, out[-3000:]
    # the head starts near zero (std 0.001), so the first loss is about the mean squared target:
    # positive and at most pi * sigma^2 / (H * W) per keypoint (a Gaussian's squared integral),
    # plus the small initial outputs' own square (10 % allowed)
    codec = cfg.model.head.decoder
    bound = math.pi * codec.sigma ** 2 / (codec.heatmap_size[0] * codec.heatmap_size[1])
    assert 0 < float(match.group(1)) <= 1.1 * bound
    assert -1 <= _ap(out) <= 1
    assert osp.exists(osp.join(work, 'epoch_1.pth'))
    name = osp.basename(config)
    test_s = 0.
    if name == 'topdown_uniformer_s_256x192.py':
        from tests.test_pose_checkpoint import convert, released_checkpoint
        state, _ = released_checkpoint('keypoint_head.')
        checkpoint = convert(state, tmp_path, small)
        out, test_s = _mim(['test', 'mmpose', small, '--checkpoint', checkpoint,
                            '--work-dir', work], str(tmp_path))
    elif name == 'topdown_uniformer_b_384x288.py':
        out, test_s = _mim(['test', 'mmpose', small, '--checkpoint',
                            osp.join(work, 'epoch_1.pth'), '--work-dir', work], str(tmp_path))
    if test_s:
        assert re.search(r'Epoch\(test\).*coco/AP: ', out), out[-3000:]
        assert 'missing keys' not in out and 'unexpected key' not in out
    print(f'{name}: mim train (1 iteration + val) {train_s:.0f} s, mim test {test_s:.0f} s')
