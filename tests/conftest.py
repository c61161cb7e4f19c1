"""Shared test helpers and fixtures.

Helpers, imported as ``from tests.conftest import run_mim, NO_WORKERS``:

* ``REPO``: the repository root (``str``).
* ``MIM``: the ``mim`` executable of the running interpreter's environment.
* ``NO_WORKERS``: ``--cfg-options`` entries that load train/val/test data in the main
  process (no worker processes on the 2-core CI machine).
* ``run_mim(args, cwd, timeout=900) -> str``: run ``mim *args`` in ``cwd`` with the
  repository on ``PYTHONPATH``; fails the test (with the output's tail) unless it exits 0;
  returns stdout + stderr.
* ``run_python(args, cwd=REPO, returncode=0, timeout=900) -> str``: the same for
  ``python *args`` (a tool script), expecting exit status ``returncode``.
* ``load_module(path) -> ModuleType``: import a script that is not in a package (tools/).
* ``randomise_bn(model, seed=0) -> model``: non-trivial BatchNorm statistics and affine
  parameters, so that eval-mode comparisons exercise them.
* ``predict_scores(config, checkpoint, cwd) -> (N, K) tensor``: class scores of the
  config's test set under a checkpoint, computed in this process with the model's
  ``test_step`` sample by sample (no evaluator, no Runner): the reference that
  ``mim test``'s printed accuracy is checked against.

Fixtures: ``restore_default_scope`` (autouse).
"""
import contextlib
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence, Union

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM = osp.join(osp.dirname(sys.executable), 'mim')
NO_WORKERS = [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
              for key in ('num_workers=0', 'persistent_workers=False')]
#: channels of the four dense outputs per arch (official dense backbones) and the ImageNet-1K
#: checkpoint file each dense config starts from
DENSE_DIMS = {'small': [64, 128, 320, 512], 'base': [64, 128, 320, 512],
              'xxs': [56, 112, 224, 448], 'xs': [64, 128, 256, 512]}
IN1K_CHECKPOINTS = {'small': 'uniformer_small_in1k.pth', 'base': 'uniformer_base_in1k.pth',
                    'xxs': 'uniformer_xxs_224_in1k.pth', 'xs': 'uniformer_xs_224_in1k.pth'}


def _env() -> dict:
    """The environment of subprocesses: the repository importable and, unless set, one
    OpenMP thread (the tests run on 2 cores in 2 pytest workers)."""
    path = os.pathsep.join(p for p in (REPO, os.environ.get('PYTHONPATH', '')) if p)
    env = dict(os.environ, PYTHONPATH=path)
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def _run(cmd: Sequence[str], cwd: Union[str, Path], returncode: int, timeout: int) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), capture_output=True, text=True,
                          timeout=timeout, env=_env())
    out = proc.stdout + proc.stderr
    assert proc.returncode == returncode, (
        f'{" ".join(map(str, cmd))} exited {proc.returncode}, expected {returncode}:\n'
        + proc.stdout[-4000:] + proc.stderr[-4000:])
    return out


def run_mim(args: Sequence[str], cwd: Union[str, Path], timeout: int = 900) -> str:
    """``mim *args`` in ``cwd``; asserts exit status 0 and returns stdout + stderr."""
    return _run([MIM, *args], cwd, 0, timeout)


def run_python(args: Sequence[str], cwd: Union[str, Path] = REPO, returncode: int = 0,
               timeout: int = 900) -> str:
    """``python *args`` in ``cwd``; asserts the exit status and returns stdout + stderr."""
    return _run([sys.executable, *args], cwd, returncode, timeout)


def build_untrained(config: Union[str, Path]):
    """The model of ``config`` as its library builds it, initialised without the config's
    Pretrained backbone checkpoint, in eval mode."""
    from mmuniformer.apis import build_model_from_config
    model = build_model_from_config(str(config), {'model.backbone.init_cfg': None})[0]
    model.init_weights()
    return model.eval()


def load_module(path: Union[str, Path]) -> ModuleType:
    """Import the Python file ``path`` as a module named after its stem."""
    path = Path(path)
    name = f'_test_module_{path.stem}'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import would (dataclasses, pickling look it up)
    spec.loader.exec_module(module)
    return module


def randomise_bn(model, seed: int = 0):
    """Random BatchNorm running statistics (mean ~ N(0, 0.1), var ~ U(0.5, 1.5)) and affine
    parameters (weight ~ 1 + N(0, 0.1), bias ~ N(0, 0.1)); returns ``model``."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(1 + torch.randn(m.num_features, generator=g) * 0.1)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model


def predict_scores(config: str, checkpoint: str, cwd: Union[str, Path]):
    """Scores ``(N, K)`` of the config's test set (paths relative to ``cwd``) under the
    ``state_dict`` of ``checkpoint``, from the model's ``test_step`` one sample at a time.

    Built here from the config with the registries, loaded with ``load_state_dict(strict)``:
    nothing of the Runner, its hooks, checkpoint loader or evaluator is involved.
    """
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, MODELS, init_default_scope

    import mmuniformer  # noqa: F401  (the configs' custom_imports)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model_cfg = cfg.model.copy()
    if 'data_preprocessor' in cfg:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)  # as the Runner does
    model = MODELS.build(model_cfg)
    state = torch.load(checkpoint, map_location='cpu')['state_dict']  # weights-only + allow-list
    model.load_state_dict(state, strict=True)
    model.eval()
    scores = []
    with contextlib.chdir(cwd), torch.no_grad():
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        for i in range(len(dataset)):
            pred = model.test_step(pseudo_collate([dataset[i]]))[0]
            scores.append(pred.pred_score.float())
    return torch.stack(scores)


@pytest.fixture(autouse=True)
def restore_default_scope():
    """mmengine keeps the current default scope (the registry that builds unscoped
    names) in a process-wide manager; a test that creates one (a Runner, a config build)
    must not change how the next test in the same worker builds modules."""
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)
