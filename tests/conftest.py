"""Shared test helpers and fixtures.

Helpers, imported as ``from tests.conftest import load_module, randomise_bn``:

* ``REPO``, ``MIM``, ``NO_WORKERS``, ``run_mim``, ``run_python``: re-exported from
  :mod:`tests.harness`, the one harness of subprocess runs and config shrinking.
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
import sys
from pathlib import Path
from types import ModuleType
from typing import Union

import pytest

from tests.harness import MIM, NO_WORKERS, REPO, run_mim, run_python  # noqa: F401

#: channels of the four dense outputs per arch (official dense backbones) and the ImageNet-1K
#: checkpoint file each dense config starts from
DENSE_DIMS = {'small': [64, 128, 320, 512], 'base': [64, 128, 320, 512],
              'xxs': [56, 112, 224, 448], 'xs': [64, 128, 256, 512]}
IN1K_CHECKPOINTS = {'small': 'uniformer_small_in1k.pth', 'base': 'uniformer_base_in1k.pth',
                    'xxs': 'uniformer_xxs_224_in1k.pth', 'xs': 'uniformer_xs_224_in1k.pth'}


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
