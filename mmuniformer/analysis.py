"""Parameter and FLOP counting (attention matmuls included) and config helpers.

The logic behind ``tools/analysis/flops.py`` (and the model building shared with
``tools/convert_official.py``). FLOPs come from :class:`mmengine.analysis.FlopAnalyzer`
(fvcore's counting: one fused multiply-add is one FLOP; convolutions, linears,
matmuls and norms counted). It does not see inside the fused
``scaled_dot_product_attention``, so every attention layer is switched to its
explicit ``softmax(q k^T) v`` path while counting.
"""
import contextlib
import importlib
import inspect
from dataclasses import dataclass, field
from typing import (Any, Callable, ContextManager, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

Inputs = Union[torch.Tensor, Tuple[torch.Tensor, ...]]
ForwardFn = Callable[..., Any]

# OpenMMLab 2.0 default scopes and the packages that hold their registries.
SCOPE_PACKAGES: Dict[str, str] = {
    'mmpretrain': 'mmpretrain',
    'mmdet': 'mmdet',
    'mmseg': 'mmseg',
    'mmaction': 'mmaction',
    'mmpose': 'mmpose',
    'mmuniformer': 'mmuniformer',
}


# ----------------------------------------------------------------------------- attention
@contextlib.contextmanager
def _set_flags(model: nn.Module, name: str, value: bool) -> Iterator[int]:
    """Set the boolean attribute ``name`` of every module of ``model`` that has one to
    ``value`` within the context; yields how many were set, restores them on exit."""
    layers = [m for m in model.modules() if isinstance(getattr(m, name, None), bool)]
    saved = [getattr(m, name) for m in layers]
    try:
        for m in layers:
            setattr(m, name, value)
        yield len(layers)
    finally:
        for m, flag in zip(layers, saved):
            setattr(m, name, flag)


def explicit_attention(model: nn.Module) -> ContextManager[int]:
    """Within the context, every module with a boolean ``use_sdpa`` flag (our
    :class:`~mmuniformer.models.layers.Attention`) runs its explicit path.

    Yields the number of switched layers; the flags are restored on exit.
    """
    return _set_flags(model, 'use_sdpa', False)


def plain_kernels(model: nn.Module) -> ContextManager[int]:
    """Within the context, every module with a boolean ``inference_kernels`` flag (our
    local blocks and MLPs) runs its plain path in inference too (no folded or fused
    kernels, :mod:`mmuniformer.models.layers.inference`).

    Yields the number of switched modules; the flags are restored on exit.
    """
    return _set_flags(model, 'inference_kernels', False)


# ----------------------------------------------------------------------------- tracing
def _tensors(out: Any) -> Tuple[torch.Tensor, ...]:
    """All tensors in a (nested) output, as a flat tuple (what jit tracing accepts)."""
    if isinstance(out, torch.Tensor):
        return (out, )
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return tuple(t for item in out for t in _tensors(item))
    return ()


class _Traced(nn.Module):
    """Wraps ``model`` so that tracing runs ``forward(model, *inputs)``."""

    def __init__(self, model: nn.Module, forward: ForwardFn) -> None:
        super().__init__()
        self.model = model
        self._call = forward

    def forward(self, *inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = _tensors(self._call(self.model, *inputs))
        if not out:
            raise RuntimeError('the analysed forward returned no tensors')
        return out


@dataclass
class Complexity:
    """Result of :func:`analyze_complexity`.

    ``params``: parameters of the modules the forward ran; ``total_params``: all
    parameters of the model (fvcore's ``parameter_count``); ``flops``: total FLOPs;
    ``module_flops``/``module_params``: per module name (relative to the model,
    ``''`` is the model); ``called``: names of the model's direct children that ran;
    ``unsupported``: operators the counter skipped, with their counts.
    """
    params: int
    total_params: int
    flops: int
    module_flops: Dict[str, int] = field(default_factory=dict)
    module_params: Dict[str, int] = field(default_factory=dict)
    called: List[str] = field(default_factory=list)
    unsupported: Dict[str, int] = field(default_factory=dict)


def _params_by_module(model: nn.Module, skip: Sequence[str] = ()) -> Dict[str, int]:
    """Parameters under each module name (shared parameters counted once per module),
    leaving out those owned by a module in ``skip``."""
    skip = set(skip)
    counts: Dict[str, int] = {}
    for name, param in model.named_parameters():
        owner = name.rsplit('.', 1)[0] if '.' in name else ''
        if owner in skip:
            continue
        parts = owner.split('.') if owner else []
        for k in range(len(parts) + 1):
            prefix = '.'.join(parts[:k])
            counts[prefix] = counts.get(prefix, 0) + param.numel()
    return counts


def analyze_complexity(model: nn.Module, inputs: Inputs,
                       forward: Optional[ForwardFn] = None) -> Complexity:
    """Count parameters and FLOPs of ``forward(model, *inputs)`` (default ``model(*inputs)``).

    The model is put in eval mode (and restored), runs without gradients, with
    explicit attention. Parameters are those of the modules the forward called.
    """
    inputs = (inputs, ) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    wrapper = _Traced(model, forward or (lambda m, *x: m(*x)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), explicit_attention(model):
            analyzer = FlopAnalyzer(wrapper, inputs)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            analyzer.tracer_warnings('none')
            total = analyzer.total()
            by_module = analyzer.by_module()
            uncalled = analyzer.uncalled_modules()
            unsupported = dict(analyzer.unsupported_ops())
    finally:
        model.train(was_training)

    def rel(name: str) -> Optional[str]:
        if name == 'model':
            return ''
        return name[len('model.'):] if name.startswith('model.') else None

    skip = [r for r in (rel(n) for n in uncalled) if r is not None]
    module_params = _params_by_module(model, skip)
    module_flops = {r: int(v) for r, v in ((rel(n), v) for n, v in by_module.items())
                    if r is not None}
    called = [name for name, _ in model.named_children() if name not in set(skip)]
    return Complexity(params=module_params.get('', 0),
                      total_params=sum(p.numel() for p in model.parameters()), flops=int(total),
                      module_flops=module_flops, module_params=module_params,
                      called=called, unsupported=unsupported)


def count_params_flops(model: nn.Module, inputs: Inputs,
                       forward: Optional[ForwardFn] = None) -> Tuple[int, int]:
    """``(params, flops)``: all parameters of ``model`` (as fvcore's ``parameter_count``)
    and the FLOPs of ``forward(model, *inputs)`` (default ``model(*inputs)``), attention
    matmuls included; see :func:`analyze_complexity`."""
    result = analyze_complexity(model, inputs, forward)
    return result.total_params, result.flops


# ----------------------------------------------------------------------------- models
def _library(model: nn.Module) -> str:
    return type(model).__module__.split('.')[0]


def _accepts_mode(model: nn.Module) -> bool:
    try:
        return 'mode' in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def _mmdet_tensor_forward(model: nn.Module, x: torch.Tensor) -> Any:
    """``model(x, data_samples, mode='tensor')`` with one synthetic image meta (two-stage
    detectors need it for their proposals)."""
    from mmdet.structures import DetDataSample
    h, w = x.shape[-2:]
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1., 1.), img_id=0)
    return model(x, [DetDataSample(metainfo=meta) for _ in range(x.shape[0])], mode='tensor')


def forward_candidates(model: nn.Module) -> List[Tuple[str, ForwardFn]]:
    """The forwards to count, most complete first, as ``(description, fn(model, x))``.

    ``x`` is ``(B, C, H, W)`` or ``(B, C, T, H, W)``; mmaction2 recognizers get the
    clip axis they expect (``(B, 1, C, T, H, W)``).
    """
    lib = _library(model)
    cands: List[Tuple[str, ForwardFn]] = []
    if lib == 'mmaction' and hasattr(model, 'extract_feat'):
        cands.append(("model.extract_feat(inputs, stage='head') (backbone + neck + cls_head)",
                      lambda m, x: m.extract_feat(x.unsqueeze(1), stage='head')[0]))
        cands.append(('model.extract_feat(inputs) (backbone + neck)',
                      lambda m, x: m.extract_feat(x.unsqueeze(1))[0]))
    elif _accepts_mode(model):
        cands.append(("model(inputs, mode='tensor')",
                      lambda m, x: m(x, data_samples=None, mode='tensor')))
        if lib == 'mmdet':
            cands.append(("model(inputs, data_samples, mode='tensor') with a synthetic image meta",
                          _mmdet_tensor_forward))
        if hasattr(model, 'extract_feat'):
            cands.append(('model.extract_feat(inputs)', lambda m, x: m.extract_feat(x)))
    if hasattr(model, 'backbone') and isinstance(model.backbone, nn.Module):
        cands.append(('model.backbone(inputs)', lambda m, x: m.backbone(x)))
    if not cands:
        cands.append(('model(inputs)', lambda m, x: m(x)))
    return cands


@dataclass
class ModelReport:
    """What :func:`analyze_model` counted: the forward used, the complexity, and
    the forwards that failed before it (``(description, error)``)."""
    forward: str
    complexity: Complexity
    failures: List[Tuple[str, str]] = field(default_factory=list)


def analyze_model(model: nn.Module, x: torch.Tensor) -> ModelReport:
    """Count the most complete inference forward of ``model`` that can be traced
    (see :func:`forward_candidates`) on input ``x``."""
    failures: List[Tuple[str, str]] = []
    for desc, fn in forward_candidates(model):
        try:
            result = analyze_complexity(model, x, fn)
        except Exception as err:  # noqa: BLE001  any failure: try the next, smaller forward
            failures.append((desc, f'{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""}'))
            continue
        return ModelReport(desc, result, failures)
    raise RuntimeError('no forward of the model could be traced:\n' +
                       '\n'.join(f'  {d}: {e}' for d, e in failures))


def find_uniformer(model: nn.Module) -> Tuple[str, Optional[nn.Module]]:
    """Name and module of the first UniFormer-like backbone (``patch_embed1`` + ``blocks1``)."""
    for name, module in model.named_modules():
        if hasattr(module, 'patch_embed1') and hasattr(module, 'blocks1'):
            return name, module
    return '', None


def stage_breakdown(model: nn.Module, result: Complexity) -> List[Tuple[str, int, int]]:
    """Rows ``(part, params, flops)``: each UniFormer stage (embedding + blocks), the rest
    of the backbone, then every other direct child of ``model`` that ran."""
    rows: List[Tuple[str, int, int]] = []
    name, backbone = find_uniformer(model)
    prefix = f'{name}.' if name else ''
    mp, mf = result.module_params, result.module_flops
    if backbone is not None:
        used_p = used_f = 0
        for i in range(1, 5):
            parts = [f'{prefix}patch_embed{i}', f'{prefix}blocks{i}']
            p = sum(mp.get(k, 0) for k in parts)
            f = sum(mf.get(k, 0) for k in parts)
            used_p, used_f = used_p + p, used_f + f
            rows.append((f'{prefix}stage{i} (patch_embed{i} + blocks{i})', p, f))
        rest_p, rest_f = mp.get(name, 0) - used_p, mf.get(name, 0) - used_f
        if rest_p or rest_f:
            rows.append((f'{name or "backbone"} (rest: norms, tokens)', rest_p, rest_f))
    if backbone is model:
        return rows
    top = name.split('.')[0] if name else None
    for child, _ in model.named_children():
        if child != top and child in result.called:
            rows.append((child, mp.get(child, 0), mf.get(child, 0)))
    if top and '.' in name:  # backbone nested deeper: its siblings inside the top child
        inner_p = mp.get(top, 0) - mp.get(name, 0)
        inner_f = mf.get(top, 0) - mf.get(name, 0)
        if inner_p or inner_f:
            rows.append((f'{top} (rest)', inner_p, inner_f))
    return rows


# ----------------------------------------------------------------------------- configs
def _transforms(pipeline: Any) -> List[dict]:
    return [t for t in pipeline if isinstance(t, dict)] if isinstance(pipeline, (list, tuple)) else []


def _find_pipeline(cfg: Any) -> List[dict]:
    """The test (else val) pipeline of a config, looking through dataset wrappers."""
    def from_dataset(ds: Any) -> List[dict]:
        if not isinstance(ds, dict):
            return []
        if 'pipeline' in ds and _transforms(ds['pipeline']):
            return _transforms(ds['pipeline'])
        if 'dataset' in ds:
            return from_dataset(ds['dataset'])
        for sub in ds.get('datasets', []) or []:
            found = from_dataset(sub)
            if found:
                return found
        return []

    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) if hasattr(cfg, 'get') else None
        if isinstance(loader, dict):
            found = from_dataset(loader.get('dataset'))
            if found:
                return found
    for key in ('test_pipeline', 'val_pipeline'):
        found = _transforms(cfg.get(key)) if hasattr(cfg, 'get') else []
        if found:
            return found
    return []


def _wh_to_hw(size: Any) -> Optional[Tuple[int, int]]:
    """OpenMMLab transforms give sizes as an int or ``(w, h)``; -1 means "keep ratio"."""
    if isinstance(size, int) and size > 0:
        return size, size
    if isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        w, h = size
        if w <= 0 and h <= 0:
            return None
        return (h if h > 0 else w), (w if w > 0 else h)
    return None


def input_shape_from_config(cfg: Any) -> Tuple[Optional[int], Optional[Tuple[int, int]]]:
    """``(T, (H, W))`` of the test pipeline: ``T`` from a frame sampler's ``clip_len``,
    ``(H, W)`` from the last resize / crop / affine transform; None where not found."""
    t, hw = None, None
    for transform in _find_pipeline(cfg):
        name = str(transform.get('type', '')).split('.')[-1]
        if name in ('SampleFrames', 'UniformSample', 'UniformSampleFrames', 'DenseSampleFrames'):
            if isinstance(transform.get('clip_len'), int):
                t = transform['clip_len']
        elif name in ('CenterCrop', 'ThreeCrop', 'TenCrop', 'RandomCrop'):
            hw = _wh_to_hw(transform.get('crop_size')) or hw
        elif name == 'TopdownAffine':
            hw = _wh_to_hw(transform.get('input_size')) or hw
        elif name in ('Resize', 'ResizeEdge'):
            hw = _wh_to_hw(transform.get('scale')) or hw
    return t, hw


def build_model_from_config(config: str, cfg_options: Optional[dict] = None
                            ) -> Tuple[nn.Module, Any, str]:
    """Build ``cfg.model`` the way the config's library does.

    Loads the config (running its ``custom_imports``), applies ``cfg_options``, sets
    the config's ``default_scope`` (mmengine's ``init_default_scope``) and builds from
    that library's ``MODELS``. Returns ``(model, cfg, scope)``.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    importlib.import_module('mmuniformer')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope', None) or 'mmengine'
    init_default_scope(scope)
    if scope in SCOPE_PACKAGES:
        registry = importlib.import_module(f'{SCOPE_PACKAGES[scope]}.registry').MODELS
    else:
        from mmengine.registry import MODELS as registry
    return registry.build(cfg.model), cfg, scope
