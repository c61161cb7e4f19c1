"""configs/pose through mim: one training iteration and a validation pass (the test loop's
model, data and CocoMetric) of every config with `mim train mmpose`, and `mim test mmpose` of
the contract configs: topdown_uniformer_s_256x192 on a checkpoint converted from the released
mmpose-0.x layout (no missing or unexpected key), topdown_uniformer_b_384x288 on the checkpoint
its training saved. Inputs at 128x96 (heatmaps 32x24; the backbone needs multiples of 32), the
configs' sigma, on generated stick-figure data."""
import glob
import math
import os.path as osp

import pytest

pytest.importorskip('mmpose')

from tests.conftest import load_module  # noqa: E402
from tests.harness import (REPO, config_params, evaluate_config, load_config,  # noqa: E402
                           set_sizes, shrink_for_test, train_config, write_config)

POSE_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'pose', '*.py')))
SMALL = dict(input_size=(96, 128), heatmap_size=(24, 32))  # (W, H)


def _small_config(config, data_root, work_dir, checkpoint='none', shallow=True):
    """The config on ``data_root`` (generated stick figures, ground-truth boxes), at 128x96
    input and 32x24 heatmaps, a shallow backbone (its wiring, not its depth, is under test),
    no ImageNet checkpoint, batch 8 (one iteration per epoch), validation after the epoch,
    the weights saved after it for ``checkpoint`` 'weights' (no optimizer state)."""
    cfg = load_config(config)
    shrink_for_test(cfg, checkpoint=checkpoint, shallow=shallow, batch_size=8)
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'),
                          ('test_dataloader', 'val')):
        cfg[loader].dataset.update(
            data_root=data_root, ann_file=f'annotations/person_keypoints_{split}.json',
            data_prefix=dict(img=f'{split}/'))
        if split == 'val':
            cfg[loader].dataset.bbox_file = None
        set_sizes(cfg[loader].dataset.pipeline, SMALL)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = osp.join(data_root, 'annotations/person_keypoints_val.json')
    set_sizes(cfg.model, SMALL)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    return write_config(cfg, work_dir, config), cfg


@pytest.fixture(scope='module')
def stick(tmp_path_factory):
    gen = load_module(osp.join(REPO, 'projects', 'quickstart', 'tools', 'data', 'make_coco_keypoints.py'))
    root = tmp_path_factory.mktemp('pose') / 'stick_coco'
    # one training image (1-3 people: one batch of 8), one validation image
    gen.generate(root, num_train=1, num_val=1, size=(128, 128), seed=2)
    return str(root)


#: the configs run through `mim train` / `mim test` (the command line); the others run the
#: same Runner in the test process
MIM_CONFIGS = ('topdown_uniformer_s_256x192.py', 'topdown_uniformer_b_384x288.py')


@pytest.mark.parametrize('config', config_params(POSE_CONFIGS, slow=MIM_CONFIGS))
def test_train_validate_and_test(config, stick, tmp_path):
    """The config's wiring (top-down estimator, heatmap head and codec, pipelines,
    CocoMetric; a shallow backbone) trains one iteration and validates; the first loss is the
    untrained head's. The contract configs go through `mim train mmpose` and `mim test
    mmpose`: b_384x288 on the checkpoint its run saved (the validated figures again),
    s_256x192 at full depth on a checkpoint converted from the released layout (no missing or
    unexpected key). (Learning: tests/test_e2e.)"""
    work = tmp_path / 'work'
    work.mkdir()
    name = osp.basename(config)
    mim = name in MIM_CONFIGS
    small, cfg = _small_config(config, stick, work, checkpoint='weights' if mim else 'none')
    losses, metrics = train_config(small, work, tmp_path, library='mmpose', mim=mim)
    # the head starts near zero (std 0.001), so the first loss is about the mean squared target:
    # positive and at most pi * sigma^2 / (H * W) per keypoint (a Gaussian's squared integral),
    # plus the small initial outputs' own square (10 % allowed)
    codec = cfg.model.head.decoder
    bound = math.pi * codec.sigma ** 2 / (codec.heatmap_size[0] * codec.heatmap_size[1])
    assert 0.1 * bound < losses['loss_kpt'] <= 1.1 * bound, losses
    assert 'coco/AP' in metrics, metrics  # validated (learning: tests/test_e2e)
    if name == 'topdown_uniformer_s_256x192.py':
        from tests.test_tools.test_convert_pose import convert, released_checkpoint
        full, _ = _small_config(config, stick, tmp_path, shallow=False)
        state, _ = released_checkpoint('keypoint_head.')
        tested = evaluate_config(full, convert(state, tmp_path, full), work, tmp_path,
                                 library='mmpose', mim=True)
        assert 'coco/AP' in tested, tested
    elif name == 'topdown_uniformer_b_384x288.py':
        tested = evaluate_config(small, osp.join(work, 'epoch_1.pth'), work, tmp_path,
                                 library='mmpose', mim=True)
        assert tested['coco/AP'] == pytest.approx(metrics['coco/AP'], abs=1e-4)
