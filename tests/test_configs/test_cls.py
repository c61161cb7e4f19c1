"""Every configs/cls config trains one iteration and tests through mim, on fake ImageNet.

Checked against values that do not come from the code under test:

* the first training loss is the untrained model's: each cross-entropy term of an
  (almost) uniform 1000-way prediction is ln(1000), whatever the (soft) target, and the
  recipes weight them as the official code does: one term (DeiT recipe), 0.5 + 0.5
  (light models, image_classification/engine_light.py) or 1 + 1 (token labeling,
  token_labeling/tlt/loss/cross_entropy.py);
* ``mim test``'s printed top-1/top-5 equal the accuracy computed in this process from the
  saved checkpoint's weights on the same test images, with the test labels chosen so
  that exactly half of them are right (see ``half_right_labels``).
"""
import glob
import math
import os.path as osp
import re

import pytest

from tests.conftest import predict_scores
from tests.fake_data import half_right_labels, set_labels, write_fake_imagenet
from tests.harness import (REPO, config_params, evaluate_config, load_config, shrink_for_test,
                           train_config, write_config)

pytest.importorskip('mmpretrain')
CLS_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'cls', '*.py')))
CONTRACT = ['uniformer_s_in1k.py', 'uniformer_s_plus_in1k.py', 'uniformer_b_in1k.py',
            'uniformer_b_ls_in1k.py', 'uniformer_l_ls_tl_in1k.py', 'uniformer_s_tl_in1k_384.py',
            'uniformer_xxs_in1k_160.py', 'uniformer_xs_in1k_192.py']
CHANCE = math.log(1000)


def test_contract_configs_exist():
    names = {osp.basename(p) for p in CLS_CONFIGS}
    assert set(CONTRACT) <= names, sorted(set(CONTRACT) - names)


def _expected_losses(config: str) -> dict:
    """Logged loss terms of an untrained model, in units of ln(1000)."""
    name = osp.basename(config)
    if '_tl_' in name:
        return {'loss_cls': 1.0, 'loss_dense': 1.0}
    if name.startswith(('uniformer_xxs_', 'uniformer_xs_')):
        return {'loss_cls': 0.5, 'loss_score_token': 0.5}
    return {}  # one term, logged as the total


#: the config run through `mim train` / `mim test` (the command line); the others run the same
#: Runner in the test process
MIM_CONFIG = 'uniformer_s_in1k.py'


@pytest.mark.parametrize('config', config_params(CLS_CONFIGS, slow=[MIM_CONFIG]))
def test_train_and_test_one_iteration(config, tmp_path):
    """The config's wiring (classifier, head and losses, pipelines, evaluator; a shallow
    backbone: its depth is not under test) trains one iteration and tests the weights it
    saved; the contract config through `mim train` / `mim test`. (Learning: tests/test_e2e.)"""
    size = re.search(r'_(160|192|384)\.py$', config)
    label_hw = 12 if '384' in config else 7
    write_fake_imagenet(str(tmp_path), num_per_split=2, size=int(size.group(1)) + 16 if size else 240,
                        token_label_hw=label_hw if '_tl_' in config else 0)
    work = tmp_path / 'work'
    work.mkdir()
    cfg = load_config(config)
    shrink_for_test(cfg, checkpoint='weights', shallow=True, batch_size=2)
    cfg.train_cfg.update(max_epochs=1, val_interval=2)
    small = write_config(cfg, work, config)
    mim = osp.basename(config) == MIM_CONFIG
    losses, _ = train_config(small, work, tmp_path, library='mmpretrain', mim=mim)
    terms = _expected_losses(config)
    for key, weight in terms.items():
        assert losses.get(key) == pytest.approx(weight * CHANCE, rel=0.1), (key, losses)
    total = sum(terms.values()) if terms else 1.0
    assert losses['loss'] == pytest.approx(total * CHANCE, rel=0.1), losses
    if terms:  # the logged total is the sum of the logged terms
        assert losses['loss'] == pytest.approx(sum(losses[k] for k in terms), abs=2e-4), losses

    ckpt = osp.join(work, 'epoch_1.pth')
    labels, expected = half_right_labels(predict_scores(small, ckpt, tmp_path))
    set_labels(str(tmp_path / 'data' / 'imagenet' / 'meta' / 'val.txt'), labels)
    metrics = evaluate_config(small, ckpt, work, tmp_path, library='mmpretrain', mim=mim)
    metrics = {k: metrics.get(k) for k in ('accuracy/top1', 'accuracy/top5')}
    assert metrics == pytest.approx({'accuracy/top1': expected, 'accuracy/top5': expected},
                                    abs=1e-3), metrics
