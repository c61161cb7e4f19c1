"""Data-parallel training with mmengine's Runner and PyTorch's launcher, on CPU (gloo).

The image quick start trains a few iterations with 2 processes (``torch.distributed.run``,
``DistributedDataParallel``, mmengine's ``DefaultSampler`` splitting the data) and with
1 process at the same global batch; the per-iteration losses (the mean over both ranks'
local losses) must match. BatchNorm statistics depend on the local batch, and
``SyncBatchNorm`` runs on GPUs only, so the backbone's BatchNorms are kept in eval mode
(``norm_eval``); augmentation is switched off (it draws per-rank random numbers).

The shell launchers (tools/dist_train.sh, tools/slurm_train.sh) start the libraries'
training scripts, which need a GPU per process (``torch.cuda.set_device``); they are
checked here for their argument handling only.

Also run as the training worker: ``python tests/test_engine/test_dist.py DATA OUT WORLD`` (under
torchrun when WORLD > 1).
"""
import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, load_module, run_python

CONFIG = 'projects/quickstart/configs/uniformer_tiny_shapes.py'
GLOBAL_BATCH = 8
EPOCHS = 2  # 16 training images: 2 iterations per epoch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def worker(data_root: str, out_dir: str, world: int) -> None:
    """Train the quick start for ``EPOCHS`` epochs; write this rank's losses to OUT/rank{r}.json."""
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.runner import Runner

    rank = int(os.environ.get('RANK', 0))
    if world > 1:
        # the Runner skips its own init_dist (which calls torch.cuda.set_device) when a
        # process group exists
        dist.init_process_group('gloo')
    cfg = Config.fromfile(os.path.join(REPO, CONFIG))
    cfg.work_dir = os.path.join(out_dir, f'work_{world}')
    loader = cfg.train_dataloader
    loader.update(batch_size=GLOBAL_BATCH // world, num_workers=0, persistent_workers=False)
    loader.sampler.shuffle = False
    loader.dataset.update(data_root=data_root, classes=f'{data_root}/classes.txt',
                          pipeline=cfg.test_pipeline)
    cfg.model.backbone.norm_eval = True
    cfg.train_cfg.update(max_epochs=EPOCHS, val_interval=EPOCHS + 1)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    cfg.launcher = 'pytorch' if world > 1 else 'none'
    # DDP of a CPU model takes no device ids (the Runner's default passes LOCAL_RANK)
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                 broadcast_buffers=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    with open(os.path.join(out_dir, f'rank{rank}_world{world}.json'), 'w') as f:
        json.dump(dict(losses=losses, world=dist.get_world_size() if world > 1 else 1), f)
    if world > 1:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gen = load_module(Path(REPO) / 'projects/quickstart/tools/data/make_shapes_cls.py')
    return gen.generate(tmp_path_factory.mktemp('dist') / 'shapes', num_train=2, num_val=1,
                        size=32, seed=3)


def test_two_processes_match_one(shapes: Path, tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    script = os.path.join(REPO, 'tests', 'test_engine', 'test_dist.py')
    cmds = {1: [sys.executable, script, str(shapes), str(tmp_path), '1'],
            2: [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                f'--master_port={_free_port()}', script, str(shapes), str(tmp_path), '2']}
    for world, cmd in cmds.items():
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = json.loads((tmp_path / 'rank0_world1.json').read_text())['losses']
    ranks = [json.loads((tmp_path / f'rank{r}_world2.json').read_text()) for r in (0, 1)]
    assert all(r['world'] == 2 for r in ranks)
    iters = 16 // GLOBAL_BATCH * EPOCHS
    assert len(single) == iters and all(len(r['losses']) == iters for r in ranks)
    # the ranks saw different halves of each batch
    assert ranks[0]['losses'] != ranks[1]['losses']
    mean = [(a + b) / 2 for a, b in zip(ranks[0]['losses'], ranks[1]['losses'])]
    # later iterations follow updates made from the all-reduced gradients
    for i, (a, b) in enumerate(zip(mean, single)):
        assert abs(a - b) <= 1e-4 * abs(b), (i, mean, single)
    assert single[-1] != single[0]  # the weights changed


def test_sync_bn_config_converts_the_local_blocks() -> None:
    """``sync_bn='torch'`` (the Runner's config key, applied when distributed) turns every
    BatchNorm of the backbone, the local blocks' ``norm1``/``norm2`` included, into
    ``SyncBatchNorm`` with the same statistics; ``revert_sync_batchnorm`` undoes it."""
    import torch
    from mmengine.model import convert_sync_batchnorm, revert_sync_batchnorm
    from torch.nn.modules.batchnorm import _BatchNorm

    from mmuniformer.apis import build_model_from_config
    model, _, _ = build_model_from_config(os.path.join(REPO, CONFIG))
    bns = {n: m for n, m in model.named_modules() if isinstance(m, _BatchNorm)}
    local = [n for n in bns if '.blocks1.' in n or '.blocks2.' in n]
    assert len(local) == 2 * (1 + 1)  # norm1 + norm2 of the one block in stages 1 and 2
    with torch.no_grad():
        for m in bns.values():
            m.running_mean.normal_()
    synced = convert_sync_batchnorm(model, 'torch')
    converted = {n: m for n, m in synced.named_modules() if isinstance(m, torch.nn.SyncBatchNorm)}
    assert set(converted) == set(bns)
    for n in bns:
        torch.testing.assert_close(converted[n].running_mean, bns[n].running_mean)
    reverted = revert_sync_batchnorm(synced)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in reverted.modules())


@pytest.mark.parametrize('script,args,usage', [
    ('dist_train.sh', ['mmpretrain', CONFIG], 'LIB CONFIG GPUS'),
    ('dist_test.sh', ['mmpretrain', CONFIG, 'x.pth'], 'LIB CONFIG CHECKPOINT GPUS'),
    ('slurm_train.sh', ['p', 'j', 'mmpretrain', CONFIG], 'PARTITION JOB_NAME LIB CONFIG WORK_DIR'),
])
def test_launch_scripts_usage(script: str, args: list, usage: str) -> None:
    proc = subprocess.run(['bash', f'tools/{script}', *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and usage in proc.stderr


def test_launch_script_rejects_unknown_library() -> None:
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(['bash', 'tools/dist_train.sh', 'mmfoo', CONFIG, '1'], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode != 0
    assert "unknown library 'mmfoo'" in proc.stderr and 'mmsegmentation' in proc.stderr



@pytest.mark.parametrize('lib,package', [('mmpretrain', 'mmpretrain'), ('mmaction2', 'mmaction'),
                                         ('mmdet', 'mmdet'), ('mmsegmentation', 'mmseg'),
                                         ('mmpose', 'mmpose')])
def test_launchers_find_each_library_script(lib: str, package: str) -> None:
    """The three launchers share tools/misc/library_script.py: it names the scripts mim runs."""
    module = load_module(os.path.join(REPO, 'tools', 'misc', 'library_script.py'))
    pkg_dir = os.path.dirname(importlib.util.find_spec(package).origin)
    for kind in ('train', 'test'):
        path = module.library_script(lib, kind)
        assert path == os.path.join(pkg_dir, '.mim', 'tools', f'{kind}.py')
        assert os.path.isfile(path)
    with pytest.raises(SystemExit, match='accepted: mmaction, mmaction2'):
        module.library_script('mmfoo', 'train')


if __name__ == '__main__':
    worker(sys.argv[1], sys.argv[2], int(sys.argv[3]))
