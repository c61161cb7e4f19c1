"""The one harness of the tests' end-to-end runs: ``mim`` subprocesses, configs shrunk for
a CPU test, the numbers parsed from the logs, and in-process training that records what a
learning check needs.

Import as ``from tests.harness import run_mim, shrink_for_test, ...`` (``tests.conftest``
re-exports the runners for older imports).

* ``REPO``, ``MIM``, ``NO_WORKERS``; ``run_mim(args, cwd)``, ``run_python(args, cwd)``:
  subprocesses with the repository on ``PYTHONPATH`` and one OpenMP thread; a non-zero exit
  fails the test with the output's tail.
* ``shrink_for_test(cfg, ...)``: the settings every test run of a config shares (data in the
  main process, no ImageNet checkpoint, fp32, log every iteration, checkpoints without
  optimizer state or none at all, optionally a shallow backbone).
* ``divide_sizes`` / ``set_sizes``: image scales and crop sizes of a pipeline.
* ``logged(out, pattern)``, ``last_metric(out, name)``: numbers of a mim log.
* ``train_config`` / ``evaluate_config``: a config file through ``mim train`` / ``mim test``
  (the user's command line) or through the same mmengine Runner in this process (cheaper:
  no subprocess start-up); first-iteration losses and metrics.
* ``train_and_evaluate(cfg, work_dir)``: an mmengine Runner in this process that evaluates
  the untrained model, trains and evaluates again; returns every iteration's loss and both
  metrics.
"""
import os
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM = osp.join(osp.dirname(sys.executable), 'mim')
NO_WORKERS = [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
              for key in ('num_workers=0', 'persistent_workers=False')]
#: pipeline keys that hold an image scale or crop size (``(w, h)``, an int or a list of them)
#: the quick-start config of each task (projects/quickstart/configs)
QS_CONFIGS = {task: osp.join(REPO, 'projects', 'quickstart', 'configs', name) for task, name in (
    ('cls', 'uniformer_tiny_shapes.py'), ('video', 'uniformer_tiny_motion.py'),
    ('det', 'mask_rcnn_uniformer_tiny_shapes_coco.py'), ('seg', 'fpn_uniformer_tiny_shapes_ade.py'),
    ('pose', 'topdown_uniformer_tiny_stick_coco.py'))}
SIZE_KEYS = ('scale', 'scales', 'crop_size')
#: ``--cfg-options`` of a run whose checkpoint a test reads: weights only
WEIGHTS_ONLY = ['default_hooks.checkpoint.save_optimizer=False',
                'default_hooks.checkpoint.save_param_scheduler=False']
#: ``--cfg-options`` of a run whose checkpoint no test reads: none written
NO_CHECKPOINT = ['default_hooks.checkpoint.interval=1000000',
                 'default_hooks.checkpoint.save_last=False']


# ----------------------------------------------------------------------------- subprocesses
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


# ----------------------------------------------------------------------------- configs
def load_config(path: Union[str, Path]):
    """The mmengine ``Config`` of ``path``."""
    from mmengine.config import Config
    return Config.fromfile(str(path))


def _replace(obj: Any, keys: Iterable[str], new: Callable[[str, Any], Any]) -> None:
    """Replace, in place, the value of every dict entry named one of ``keys`` in the nested
    dicts / lists ``obj`` by ``new(key, value)``."""
    keys = tuple(keys)
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in keys:
                obj[key] = new(key, value)
            else:
                _replace(value, keys, new)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _replace(item, keys, new)


def _divided(value: Any, factor: int) -> Any:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return [_divided(v, factor) for v in value]
    if isinstance(value, (list, tuple)):
        return tuple(v if v == -1 else max(1, int(v) // factor) for v in value)
    return max(1, int(value) // factor)


def divide_sizes(pipeline: Any, factor: int, keys: Sequence[str] = SIZE_KEYS) -> None:
    """Divide every image scale / crop size (``keys``) in ``pipeline`` by ``factor``
    (in place; ``-1``, "keep the aspect ratio", stays)."""
    _replace(pipeline, keys, lambda key, value: _divided(value, factor))


def set_sizes(obj: Any, sizes: Dict[str, Any]) -> None:
    """Set every entry named a key of ``sizes`` in the config subtree ``obj`` to its value."""
    _replace(obj, sizes, lambda key, value: sizes[key])


def shallow_arch(backbone: dict) -> dict:
    """The backbone's arch (a zoo name or a dict) as a dict with one block per stage, two in
    stage 3 when a stage-3 mode is 'hybrid' (then every second block is global): the
    channels, heads, stem and layer scale of the full model, so heads and necks fit."""
    from mmuniformer.models.backbones.uniformer import ARCH_ALIASES, ARCH_ZOO
    from mmuniformer.models.backbones.uniformer_light import ARCH_ZOO_LIGHT
    arch = backbone.get('arch', 'small')
    if isinstance(arch, str):
        if 'Light' in backbone['type']:
            arch = ARCH_ZOO_LIGHT[arch]
        else:
            arch = ARCH_ZOO[ARCH_ALIASES.get(arch, arch)]
    arch = dict(arch)
    hybrid = 'hybrid' in (backbone.get('stage3_mode'), backbone.get('eval_stage3_mode'))
    arch['depths'] = (1, 1, 2 if hybrid else 1, 1)
    if hybrid:
        backbone['hybrid_global_every'] = 2
    return arch


def shrink_for_test(cfg, *, checkpoint: str = 'none', shallow: bool = False,
                    batch_size: Optional[int] = None) -> None:
    """Settings every CPU test run of a config shares (in place): data loaded in the main
    process, no ImageNet / Kinetics checkpoint, full precision (the AMP wrappers need a GPU),
    log every iteration; ``checkpoint`` 'none' (no file written) or 'weights' (the last one,
    without optimizer and scheduler state); ``shallow``: one block per stage
    (:func:`shallow_arch`), for tests of a config's wiring; ``batch_size`` of all loaders."""
    if checkpoint not in ('none', 'weights'):
        raise ValueError(f"checkpoint must be 'none' or 'weights', got {checkpoint!r}")
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            loader.update(num_workers=0, persistent_workers=False)
            if batch_size is not None:
                loader.batch_size = batch_size
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    if shallow:
        backbone.arch = shallow_arch(backbone)
    cfg.load_from = None
    if 'Amp' in cfg.optim_wrapper.get('type', 'OptimWrapper'):
        cfg.optim_wrapper.type = 'OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
        cfg.optim_wrapper.pop('dtype', None)
    cfg.default_hooks.logger.interval = 1
    hook = cfg.default_hooks.checkpoint
    hook.update(save_optimizer=False, save_param_scheduler=False)
    if checkpoint == 'none':
        hook.update(interval=1000000, save_last=False)


def config_params(configs: Sequence[str], slow: Sequence[str] = ()) -> list:
    """``pytest.param`` of each config path, named by its file name; those whose file name is
    in ``slow`` (the runs through mim) marked ``slow``."""
    import pytest
    return [pytest.param(c, id=osp.basename(c),
                         marks=[pytest.mark.slow] if osp.basename(c) in slow else [])
            for c in configs]


def write_config(cfg, directory: Union[str, Path], name: str) -> str:
    """Dump ``cfg`` to ``directory/name``; returns the path."""
    path = osp.join(str(directory), osp.basename(name))
    cfg.dump(path)
    return path


# ----------------------------------------------------------------------------- logs
def logged(out: str, pattern: str) -> Dict[str, float]:
    """The ``name: number`` pairs of the first log line matching ``pattern`` (losses,
    metrics: ``loss``, ``loss_cls``, ``accuracy/top1``, ``coco/bbox_mAP``, ``mIoU`` ...)."""
    line = re.search(pattern + r'[^\n]*', out)
    assert line is not None, f'no log line matches {pattern!r}:\n' + out[-3000:]
    return {k: float(v) for k, v in re.findall(r'([\w./]+): (-?[0-9.]+(?:e-?\d+)?|nan)\b',
                                                line.group(0))}


def last_metric(out: str, name: str) -> float:
    """The last value printed for the metric ``name`` (e.g. 'mIoU', 'coco/AP')."""
    found = re.findall(re.escape(name) + r': (-?[0-9.]+)', out)
    assert found, f'no {name} in the output:\n' + out[-3000:]
    return float(found[-1])


# ----------------------------------------------------------------------------- runs
TRAIN_LINE = r'(?:Epoch\(train\)\s+\[1\]\[1/\d+\]|Iter\(train\)\s+\[1/\d+\])'


def _metrics_line(out: str, split: str) -> Dict[str, float]:
    """The numbers of the last ``Epoch(split)`` / ``Iter(split)`` summary line of a log."""
    lines = [line for line in out.splitlines()
             if re.search(rf'(?:Epoch|Iter)\({split}\)', line) and 'eta:' not in line]
    assert lines, f'no {split} summary in the output:\n' + out[-3000:]
    return logged(lines[-1], '.')


def _runner(config: str, work_dir: Union[str, Path], **overrides):
    """An mmengine Runner of the config file, as the libraries' train/test scripts build it,
    with a name of its own (mmengine keys its loggers and message hubs by name)."""
    from mmengine.runner import Runner
    cfg = load_config(config)
    cfg.work_dir = str(work_dir)
    _name(cfg)
    cfg.update(overrides)
    return Runner.from_cfg(cfg)


def _name(cfg) -> None:
    """A run name of its own for ``cfg``: mmengine keeps loggers, message hubs and
    visualizers by name for the life of the process (the libraries' runtimes name the
    visualizer 'visualizer'), and a later Runner would write to an earlier test's folder."""
    import uuid
    cfg.experiment_name = f'test_{uuid.uuid4().hex}'
    if cfg.get('visualizer') is not None:
        cfg.visualizer.name = cfg.experiment_name


def _recorder(evaluate_untrained: bool):
    from mmengine.hooks import Hook

    class Record(Hook):
        """The log values of every training iteration and every validation's metrics;
        optionally a validation of the untrained model before the first step."""
        priority = 'LOWEST'

        def __init__(self) -> None:
            self.losses: List[Dict[str, float]] = []
            self.metrics: List[dict] = []

        def before_train(self, runner) -> None:
            if evaluate_untrained:
                runner.val_loop.run()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            self.losses.append({k: float(v.detach()) if hasattr(v, 'detach') else float(v)
                                for k, v in (outputs or {}).items()})

        def after_val_epoch(self, runner, metrics=None) -> None:
            self.metrics.append(dict(metrics or {}))

    return Record()


def train_config(config: str, work_dir: Union[str, Path], cwd: Union[str, Path], *,
                 library: str, mim: bool) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Train the config file: with ``mim train LIBRARY`` (``mim=True``: the command line a
    user runs) or with the same mmengine Runner in this process (no start-up of a
    subprocess). Returns the first iteration's logged values (losses) and the metrics of
    the last validation (empty without one); relative data paths are read from ``cwd``."""
    if mim:
        out = run_mim(['train', library, config, '--work-dir', work_dir], cwd)
        metrics = _metrics_line(out, 'val') if re.search(r'\(val\)', out) else {}
        return logged(out, TRAIN_LINE), metrics
    import contextlib
    with contextlib.chdir(cwd):
        runner = _runner(config, work_dir)
        record = _recorder(evaluate_untrained=False)
        runner.register_hook(record)
        runner.train()
    return record.losses[0], (record.metrics[-1] if record.metrics else {})


def evaluate_config(config: str, checkpoint: str, work_dir: Union[str, Path],
                cwd: Union[str, Path], *, library: str, mim: bool) -> Dict[str, float]:
    """Test the config file on ``checkpoint`` (``mim test LIBRARY``, or the Runner in this
    process); returns the metrics. The mim run also asserts that the checkpoint loaded
    without missing or unexpected keys."""
    if mim:
        out = run_mim(['test', library, config, '--checkpoint', checkpoint,
                       '--work-dir', work_dir], cwd)
        assert 'missing keys' not in out and 'unexpected key' not in out, out[-3000:]
        return _metrics_line(out, 'test')
    import contextlib
    with contextlib.chdir(cwd):
        metrics = _runner(config, work_dir, load_from=checkpoint).test()
    return {k: float(v) for k, v in metrics.items()}


def train_and_evaluate(cfg, work_dir: Union[str, Path]) -> Tuple[List[float], dict, dict]:
    """Train ``cfg`` with an mmengine Runner in this process; returns the loss of every
    iteration, the validation metrics of the untrained model (the weights the run starts
    from, evaluated before the first step) and those after the last step."""
    from mmengine.runner import Runner
    cfg.work_dir = str(work_dir)
    _name(cfg)
    runner = Runner.from_cfg(cfg)
    record = _recorder(evaluate_untrained=True)
    runner.register_hook(record)
    runner.train()
    assert len(record.metrics) >= 2, record.metrics
    return [step['loss'] for step in record.losses], record.metrics[0], record.metrics[-1]


def assert_fused_equals_explicit(model: Any, x: Any) -> None:
    """``model``'s outputs on ``x`` with the fused attention kernel (SDPA) equal those of the
    explicit softmax path (then left switched to it)."""
    import torch

    from mmuniformer.models.layers import set_fused
    with torch.no_grad():
        fused = model(x)
        set_fused(model, False, 'attention')
        explicit = model(x)
    for a, b in zip(fused, explicit):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def count_fused_local_calls(monkeypatch: Any) -> List[int]:
    """``[fused local-block calls, folds computed]``, counted from now on (``monkeypatch``:
    pytest's fixture, which restores the methods)."""
    from mmuniformer.models.layers.blocks import LocalBlock
    calls = [0, 0]
    fast, folds = LocalBlock._forward_inference, LocalBlock._folds

    def counted(self: Any, x: Any) -> Any:
        calls[0] += 1
        return fast(self, x)

    def counted_folds(self: Any) -> Any:
        calls[1] += 1
        return folds(self)

    monkeypatch.setattr(LocalBlock, '_forward_inference', counted)
    monkeypatch.setattr(LocalBlock, '_folds', counted_folds)
    return calls


def assert_dense_backbone(backbone: Any, arch: str, mode: str) -> bool:
    """A dense task's backbone config: ours (light for XS/XXS), ``arch``, all four stages with a
    LayerNorm each and, for the non-light archs, stage 3 in ``mode``. Returns whether it is
    light."""
    light = arch in ('xxs', 'xs')
    assert backbone.type == ('mmuniformer.UniFormerLight' if light else 'mmuniformer.UniFormer')
    assert backbone.arch == arch
    assert tuple(backbone.out_indices) == (0, 1, 2, 3) and backbone.out_norm == 'ln'
    assert light or backbone.stage3_mode == mode
    return light


def spread_detector_heads(model: Any, seed: int = 1) -> Any:
    """Redraw a two-stage detector's RPN and RoI heads' weights at unit gain (in place):
    scores then spread over (0, 1) instead of the near-ties of the initial heads (std 0.01),
    so that every detection has a clear rank and the graph / runtime comparisons can fail."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(('rpn_head.', 'roi_head.')) and p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * 2 / p[0].numel() ** .5)
    return model


def write_photos(folder: Union[str, Path],
                 names: Sequence[str] = ('astronaut', 'coffee', 'chelsea')) -> Dict[str, str]:
    """scikit-image's photos written as BGR PNG files in ``folder``: {name: path}."""
    import cv2
    import skimage.data
    paths = {}
    for name in names:
        paths[name] = str(Path(folder) / f'{name}.png')
        cv2.imwrite(paths[name], getattr(skimage.data, name)()[..., ::-1])  # RGB -> BGR
    return paths
