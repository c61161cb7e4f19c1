"""mmuniformer.AutoAmpOptimWrapper, QuietOptimWrapperConstructor and the missing-checkpoint
message, on the headline config ``configs/det/mask_rcnn_uniformer_s_h14_1x.py``.

* One training iteration of the config on this CPU at a small size (generated COCO data, a
  shallow arch), its ``optim_wrapper`` as configured: finite loss, the backbone ran under bf16
  autocast where the CPU has bf16 units (float32 otherwise) and handed float32 maps to the neck
  (mmcv's CPU RoIAlign has no bf16 kernel), every changed weight moved by the
  first AdamW step's size (``lr`` after warm-up factor, hand-computed), one warning line for the
  CPU fallback and one summary line instead of mmengine's per-parameter ``paramwise_options``.
* The wrapper on its own: fp32 fallback, dtype validation, a GPU checkpoint resumes on CPU.
* A missing ImageNet checkpoint stops with its name, the release's page and the override.
"""
import logging
import math
import os.path as osp
import sys

import pytest
import torch
import torch.nn as nn

from tests.conftest import REPO

HEADLINE = osp.join(REPO, 'configs/det/mask_rcnn_uniformer_s_h14_1x.py')
SHALLOW_S = dict(depths=[1, 1, 2, 1], embed_dims=[64, 128, 320, 512], head_dim=64)


def _tiny_coco(root):
    sys.path.insert(0, osp.join(REPO, 'projects', 'quickstart', 'tools', 'data'))
    try:
        import make_coco_instances as gen
    finally:
        sys.path.pop(0)
    return str(gen.generate(root / 'coco', num_train=1, num_val=1, size=(128, 160), seed=3))


def _small_headline(data_root, work_dir):
    """The headline config with the data, image sizes and depth made small; its optimizer
    wrapper, schedule and everything else as configured."""
    from mmengine.config import Config
    cfg = Config.fromfile(HEADLINE)
    # branch h18-configs names our wrapper in every AMP config; until then name it here
    assert cfg.optim_wrapper.type in ('AmpOptimWrapper', 'mmuniformer.AutoAmpOptimWrapper')
    cfg.optim_wrapper.type = 'mmuniformer.AutoAmpOptimWrapper'
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (160, 128)
    cfg.merge_from_dict({
        'work_dir': work_dir, 'model.backbone.init_cfg': None,
        'train_dataloader.batch_size': 1, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.ann_file': 'annotations/instances_train.json',
        'train_dataloader.dataset.data_prefix': dict(img='train/'),
        'train_dataloader.dataset.metainfo': dict(
            classes=('circle', 'triangle', 'square', 'star')),
        'train_cfg.max_epochs': 1, 'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 100})
    cfg.model.backbone.arch = SHALLOW_S  # a dict where the config has 'small'
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    return cfg


class _Probe:
    """Records the backbone's output dtype and the weights before/after the iteration."""

    def __init__(self):
        self.inner, self.neck_in, self.before, self.after, self.loss = [], [], None, None, None


def _make_hook(probe):
    from mmengine.hooks import Hook

    class ProbeHook(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            model = runner.model
            probe.before = {k: v.detach().clone() for k, v in model.named_parameters()}
            linear = next(m for m in model.backbone.blocks3.modules() if isinstance(m, nn.Linear))
            linear.register_forward_hook(lambda m, i, o: probe.inner.append(o.dtype))
            model.neck.register_forward_pre_hook(
                lambda m, i: probe.neck_in.append({x.dtype for x in i[0]}))

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            probe.after = {k: v.detach().clone() for k, v in runner.model.named_parameters()}
            probe.loss = float(outputs['loss'])

    return ProbeHook()


@pytest.mark.slow
def test_headline_config_trains_one_iteration_on_cpu(tmp_path):
    from mmengine.runner import Runner

    from mmuniformer.engine.optim import AutoAmpOptimWrapper, cpu_has_bf16_units
    assert not torch.cuda.is_available(), 'this test checks the CPU-only path'
    cfg = _small_headline(_tiny_coco(tmp_path), str(tmp_path / 'work'))
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    probe = _Probe()
    runner.register_hook(_make_hook(probe))
    runner.train()

    wrapper = runner.optim_wrapper
    assert isinstance(wrapper, AutoAmpOptimWrapper)
    bf16 = cpu_has_bf16_units()
    assert wrapper.cpu_dtype == (torch.bfloat16 if bf16 else None)
    # the backbone computes in bf16 (a stage-3 linear layer), neck and heads get float32
    assert set(probe.inner) == {torch.bfloat16 if bf16 else torch.float32}
    assert probe.neck_in == [{torch.float32}]
    assert 'forward' not in runner.model.backbone.__dict__  # the wrapping is undone
    assert math.isfinite(probe.loss) and 0 < probe.loss < 100
    # AdamW's first step moves every weight with a gradient by lr * g / (|g| + eps) ~ lr in
    # size (plus lr * wd * w of decay); lr is 1e-4 times the warm-up's start factor 0.001.
    lr = 1e-4 * 0.001
    # after the step the warm-up has moved one iteration on (mmengine's LinearLR with end=500
    # spreads the rise over end - 1 = 499 steps)
    assert wrapper.get_lr()['lr'][0] == pytest.approx(1e-4 * (0.001 + 0.999 / 499))
    deltas = torch.cat([(probe.after[k] - probe.before[k]).abs().flatten()
                        for k in probe.before if k.startswith('backbone.')])
    moved = deltas[deltas > 0]
    assert moved.numel() > 0.5 * deltas.numel()
    assert moved.median().item() == pytest.approx(lr, rel=0.1)
    assert moved.max().item() < 2 * lr

    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    fallback = [line for line in log.splitlines() if 'AutoAmpOptimWrapper: no GPU' in line]
    assert len(fallback) == 1 and ('bf16 autocast' in fallback[0]) == bf16
    assert 'paramwise_options' not in log
    summary = [line for line in log.splitlines() if 'paramwise_cfg:' in line]
    norms = sum(1 for k in probe.before if 'norm' in k)  # custom key 'norm': decay_mult 0
    assert len(summary) == 1
    assert f'paramwise_cfg: {norms} of {len(probe.before)} parameter tensors set' in summary[0]
    assert f'weight_decay=0.0 ({norms})' in summary[0]


def _wrapper(**kwargs):
    from mmuniformer.engine.optim import AutoAmpOptimWrapper
    model = nn.Sequential(nn.Linear(4, 2))
    return model, AutoAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                      **kwargs)


def test_cpu_fallback_without_bf16_units_trains_in_float32(monkeypatch, caplog):
    from mmuniformer.engine.optim import auto_amp
    monkeypatch.setattr(auto_amp, 'cpu_has_bf16_units', lambda: False)
    model, wrapper = _wrapper()
    assert wrapper.cpu_dtype is None and wrapper.loss_scaler is None
    x = torch.ones(3, 4)
    with wrapper.optim_context(model):
        y = model(x)
    assert y.dtype == torch.float32
    before = model[0].weight.detach().clone()
    wrapper.update_params(y.sum())
    # SGD: w -= lr * dL/dw, dL/dw = sum over the batch of x = 3 for every weight
    assert torch.allclose(model[0].weight, before - 0.1 * 3)


def test_cpu_bf16_autocast_and_checkpoint_from_a_gpu(monkeypatch):
    from mmuniformer.engine.optim import auto_amp
    monkeypatch.setattr(auto_amp, 'cpu_has_bf16_units', lambda: True)
    model, wrapper = _wrapper(dtype='float16')  # a GPU dtype: bf16 on CPU
    seen = []
    model[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with wrapper.optim_context(model):  # no .backbone: the whole model is autocast
        assert model(torch.ones(1, 4)).dtype == torch.float32  # handed on in float32
    assert seen == [torch.bfloat16] and 'forward' not in model.__dict__
    state = wrapper.state_dict()
    assert 'loss_scaler' not in state
    state['loss_scaler'] = {'scale': 65536.0}  # what a GPU run saves
    wrapper.load_state_dict(state)
    _, fp32 = _wrapper(dtype='float32')
    assert fp32.cpu_dtype is None
    with pytest.raises(ValueError, match="dtype='half' is not accepted; accepted: float16"):
        _wrapper(dtype='half')


def test_missing_imagenet_checkpoint_names_file_page_and_override(tmp_path):
    from mmuniformer.models.backbones import UniFormer
    missing = str(tmp_path / 'uniformer_small_in1k.pth')
    backbone = UniFormer(arch=SHALLOW_S, init_cfg=dict(type='Pretrained', checkpoint=missing))
    with pytest.raises(FileNotFoundError) as info:
        backbone.init_weights()
    message = str(info.value)
    assert missing in message
    assert 'github.com/Sense-X/UniFormer/blob/main/image_classification/README.md' in message
    assert '--cfg-options model.backbone.init_cfg=None' in message


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_one_log_line_for_the_custom_keys():
    """The constructor alone: same parameter groups as mmengine's, one summary line."""
    from mmengine.logging import MMLogger
    from mmengine.optim import DefaultOptimWrapperConstructor

    from mmuniformer.engine.optim import QuietOptimWrapperConstructor
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    cfg = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
    paramwise = dict(custom_keys={'1': dict(decay_mult=0.)})
    logger = MMLogger.get_instance('test_quiet_constructor', log_level='INFO')
    ours_lines, theirs_lines = _Lines(), _Lines()
    logger.addHandler(ours_lines)
    try:
        ours = QuietOptimWrapperConstructor(cfg, paramwise)(model)
        logger.removeHandler(ours_lines)
        logger.addHandler(theirs_lines)
        theirs = DefaultOptimWrapperConstructor(cfg, paramwise)(model)
    finally:
        logger.removeHandler(ours_lines)
        logger.removeHandler(theirs_lines)
    groups = [{k: v for k, v in g.items() if k != 'params'} for g in ours.optimizer.param_groups]
    assert groups == [{k: v for k, v in g.items() if k != 'params'}
                      for g in theirs.optimizer.param_groups]
    # mmengine: one line per parameter and setting (2 parameters x 3 settings)
    assert [m.startswith('paramwise_options -- 1.') for m in theirs_lines.lines] == [True] * 6
    assert ours_lines.lines == ['paramwise_cfg: 2 of 6 parameter tensors set: decay_mult=0.0 (2), '
                                'lr=0.001 (2), weight_decay=0.0 (2)']
