"""A real ``mim train`` run killed with SIGKILL and resumed with ``--resume`` ends with the
same weights, bit for bit, as the uninterrupted run (image and video quick starts, random
flips on); a kill while a checkpoint is being written leaves the previous one loadable.

The training subprocess is made to stop at a chosen point by a ``sitecustomize`` module put
on its ``PYTHONPATH`` (environment variables say where): it writes a marker file and sleeps;
the test waits for the marker and kills the whole process group with SIGKILL.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
import torch

from tests.conftest import MIM, REPO, load_module

pytest.importorskip('mmpretrain')
pytestmark = pytest.mark.slow  # mim end to end

ROOT = Path(REPO)
CLS_CONFIG = ROOT / 'projects/quickstart/configs/uniformer_tiny_shapes.py'
VIDEO_CONFIG = ROOT / 'projects/quickstart/configs/uniformer_tiny_motion.py'
SHAPES_GENERATOR = ROOT / 'projects/quickstart/tools/data/make_shapes_cls.py'
MOTION_GENERATOR = ROOT / 'projects/quickstart/tools/data/make_motion_video.py'
EPOCHS = 4
TIMEOUT = 300

# Loaded by the training processes (mim's and the library's train script): with
# STALL_MARKER set, stop at the start of iteration STALL_AT_ITER, or in the middle of writing
# the file whose name contains STALL_IN_SAVE (half of it written), write the marker and sleep.
SITECUSTOMIZE = '''
import os

_MARKER = os.environ.get('STALL_MARKER')


def _stall():
    import time
    with open(_MARKER, 'w') as f:
        f.write(str(os.getpid()))
    time.sleep(3600)


if _MARKER and os.environ.get('STALL_AT_ITER'):
    from mmengine.runner import loops
    _at = int(os.environ['STALL_AT_ITER'])
    _run_iter = loops.EpochBasedTrainLoop.run_iter

    def run_iter(self, idx, data_batch):
        if self._iter == _at:
            _stall()
        return _run_iter(self, idx, data_batch)

    loops.EpochBasedTrainLoop.run_iter = run_iter

if _MARKER and os.environ.get('STALL_IN_SAVE'):
    from mmengine.fileio.backends import local_backend
    _put = local_backend.LocalBackend.put

    def put(self, obj, filepath):
        if os.environ['STALL_IN_SAVE'] in os.path.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
            _stall()
        return _put(self, obj, filepath)

    local_backend.LocalBackend.put = put
'''


def _env(site: Optional[Path] = None, **stall: str) -> Dict[str, str]:
    path = [str(site)] if site else []
    path += [REPO, os.environ.get('PYTHONPATH', '')]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p), OMP_NUM_THREADS='1')
    env.update(stall)
    return env


def _train_cmd(library: str, config: Path, work_dir: Path, options: Sequence[str],
               resume: bool = False) -> List[str]:
    return [MIM, 'train', library, str(config), '--work-dir', str(work_dir),
            *(['--resume'] if resume else []), '--cfg-options', *options]


def _train(cmd: List[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=str(cwd), env=_env(), capture_output=True, text=True,
                          timeout=TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(cmd)} exited {proc.returncode}:\n{out[-6000:]}'
    return out


def _train_and_kill(cmd: List[str], cwd: Path, tmp: Path, **stall: str) -> None:
    """Runs ``cmd`` until the sitecustomize stall point, then SIGKILLs its process group."""
    site = tmp / 'site'
    site.mkdir(exist_ok=True)
    (site / 'sitecustomize.py').write_text(SITECUSTOMIZE)
    marker = tmp / 'stalled'
    log = open(tmp / 'killed_run.log', 'w')
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=_env(site, STALL_MARKER=str(marker), **stall),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not marker.exists():
            assert proc.poll() is None, (
                f'the run ended (exit {proc.returncode}) before the stall point:\n'
                + (tmp / 'killed_run.log').read_text()[-6000:])
            assert time.monotonic() < deadline, 'the run did not reach the stall point'
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL


def _weights(path: Path) -> Dict[str, torch.Tensor]:
    return torch.load(str(path), map_location='cpu', weights_only=False)['state_dict']


def _max_abs_diff(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> float:
    return max((x.double() - b[k].double()).abs().max().item() for k, x in a.items()
               if x.is_floating_point())


def _assert_bit_identical(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> None:
    assert set(a) == set(b)
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, (f'{len(differ)} of {len(a)} tensors differ (max abs difference '
                        f'{_max_abs_diff(a, b):.3g}), e.g. {differ[:3]}')


def _resumed_from(log: str) -> str:
    lines = [line for line in log.splitlines() if 'resumed epoch' in line]
    assert lines, 'the run did not resume from a checkpoint'
    return lines[-1]


@pytest.fixture(scope='module')
def cls_run(tmp_path_factory):
    """The image quick start at a tiny size (8 classes x 4 images of 32x32, batch 8, 4
    epochs of 4 iterations, one data worker) and its uninterrupted final weights."""
    root = tmp_path_factory.mktemp('kill_cls')
    load_module(SHAPES_GENERATOR).generate(root / 'data/shapes_cls', 4, 1, 32, 0)
    options = [f'train_cfg.max_epochs={EPOCHS}', 'train_dataloader.batch_size=8',
               'train_dataloader.num_workers=1', 'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False']
    _train(_train_cmd('mmpretrain', CLS_CONFIG, root / 'straight', options), root)
    return root, options, _weights(root / 'straight' / f'epoch_{EPOCHS}.pth')


def test_cls_killed_mid_epoch_resumes_bit_exact(cls_run, tmp_path):
    root, options, straight = cls_run
    work_dir = root / 'killed'
    # killed at the start of iteration 10 (epoch 3, after epoch 2's checkpoint)
    _train_and_kill(_train_cmd('mmpretrain', CLS_CONFIG, work_dir, options), root, tmp_path,
                    STALL_AT_ITER='9')
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    assert not (work_dir / f'epoch_{EPOCHS}.pth').exists()
    at_kill = _weights(work_dir / 'epoch_2.pth')
    log = _train(_train_cmd('mmpretrain', CLS_CONFIG, work_dir, options, resume=True), root)
    assert 'resumed epoch: 2, iter: 8' in _resumed_from(log)
    resumed = _weights(work_dir / f'epoch_{EPOCHS}.pth')
    # training moved the weights after the resume point (the comparison is not vacuous)
    assert _max_abs_diff(resumed, at_kill) > 1e-4
    _assert_bit_identical(resumed, straight)


def test_kill_while_saving_keeps_the_previous_checkpoint(cls_run, tmp_path):
    root, options, straight = cls_run
    work_dir = root / 'killed_in_save'
    options = options + ['default_hooks.checkpoint.type=mmuniformer.AtomicCheckpointHook']
    # killed with half of epoch 3's checkpoint written (max_keep_ckpts=1: epoch 2's is the
    # one mmengine's hook deletes first)
    _train_and_kill(_train_cmd('mmpretrain', CLS_CONFIG, work_dir, options), root, tmp_path,
                    STALL_IN_SAVE='epoch_3.pth')
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert last.endswith('epoch_2.pth') and osp.isfile(last)
    assert torch.load(last, map_location='cpu', weights_only=False)['meta']['epoch'] == 2
    log = _train(_train_cmd('mmpretrain', CLS_CONFIG, work_dir, options, resume=True), root)
    assert 'resumed epoch: 2, iter: 8' in _resumed_from(log)
    # the partial file is gone, only the last checkpoint is kept
    names = sorted(p.name for p in work_dir.iterdir() if 'epoch_' in p.name)
    assert names == [f'epoch_{EPOCHS}.pth']
    _assert_bit_identical(_weights(work_dir / f'epoch_{EPOCHS}.pth'), straight)


def test_video_killed_mid_epoch_resumes_bit_exact(tmp_path):
    """The video quick start at a tiny size (8 classes x 2 videos of 24 frames of 32x32,
    batch 4, 4 epochs of 4 iterations, data in the main process: its random frame offsets,
    flips and the head's dropout all draw from the main process's generators)."""
    pytest.importorskip('mmaction')
    load_module(MOTION_GENERATOR).generate(tmp_path / 'data/motion_video', 2, 1, 24, 32, 0)
    options = [f'train_cfg.max_epochs={EPOCHS}', 'train_dataloader.batch_size=4',
               'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False']
    _train(_train_cmd('mmaction2', VIDEO_CONFIG, tmp_path / 'straight', options), tmp_path)
    straight = _weights(tmp_path / 'straight' / f'epoch_{EPOCHS}.pth')
    work_dir = tmp_path / 'killed'
    _train_and_kill(_train_cmd('mmaction2', VIDEO_CONFIG, work_dir, options), tmp_path,
                    tmp_path, STALL_AT_ITER='13')
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_3.pth')
    log = _train(_train_cmd('mmaction2', VIDEO_CONFIG, work_dir, options, resume=True),
                 tmp_path)
    assert 'resumed epoch: 3, iter: 12' in _resumed_from(log)
    _assert_bit_identical(_weights(work_dir / f'epoch_{EPOCHS}.pth'), straight)
