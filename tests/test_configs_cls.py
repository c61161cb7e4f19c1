"""Every configs/cls contract config trains one iteration and tests one iteration through mim."""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

from tests.fake_data import write_fake_imagenet

pytest.importorskip('mmpretrain')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLS_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'cls', '*.py')))
CONTRACT = ['uniformer_s_in1k.py', 'uniformer_s_plus_in1k.py', 'uniformer_b_in1k.py',
            'uniformer_b_ls_in1k.py', 'uniformer_l_ls_tl_in1k.py', 'uniformer_s_tl_in1k_384.py',
            'uniformer_xxs_in1k_160.py', 'uniformer_xs_in1k_192.py']
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def test_contract_configs_exist():
    names = {osp.basename(p) for p in CLS_CONFIGS}
    assert set(CONTRACT) <= names, sorted(set(CONTRACT) - names)


def _run(args, cwd):
    proc = subprocess.run([MIM] + args, cwd=cwd, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize('config', CLS_CONFIGS, ids=[osp.basename(p) for p in CLS_CONFIGS])
def test_mim_train_and_test_one_iteration(config, tmp_path):
    size = re.search(r'_(160|192|384)\.py$', config)
    label_hw = 12 if '384' in config else 7
    write_fake_imagenet(str(tmp_path), num_per_split=2, size=int(size.group(1)) + 16 if size else 240,
                        token_label_hw=label_hw if '_tl_' in config else 0)
    work = str(tmp_path / 'work')
    common = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
              'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    out = _run(['train', 'mmpretrain', config, '--work-dir', work, '--cfg-options',
                'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1', 'load_from=None',
                'default_hooks.logger.interval=1'] + common, str(tmp_path))
    assert re.search(r'Epoch\(train\)\s+\[1\]\[1/1\].*loss: [0-9.]+', out), out[-3000:]
    loss = float(re.search(r'Epoch\(train\)\s+\[1\]\[1/1\].*? loss: ([0-9.]+)', out).group(1))
    assert 0 < loss < 50
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.exists(ckpt)
    out = _run(['test', 'mmpretrain', config, '--checkpoint', ckpt, '--work-dir', work,
                '--cfg-options', 'test_dataloader.batch_size=2'] + common, str(tmp_path))
    acc = re.search(r'accuracy/top1: ([0-9.]+)', out)
    assert acc is not None, out[-3000:]
    assert 0.0 <= float(acc.group(1)) <= 100.0
    shutil.rmtree(work, ignore_errors=True)
