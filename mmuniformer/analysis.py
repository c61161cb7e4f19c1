"""Parameter and FLOP counting (attention matmuls included): the logic behind
``tools/analysis/flops.py``.

FLOPs come from :class:`mmengine.analysis.FlopAnalyzer` (fvcore's counting: one fused
multiply-add is one FLOP; convolutions, linears, matmuls and norms counted). It does not see
inside the fused ``scaled_dot_product_attention``, so every layer runs its explicit path while
counting (:func:`mmuniformer.models.layers.fused_kernels`). The forwards tried on a model come
from :func:`mmuniformer.libraries.forward_candidates`; configs become models through
:func:`mmuniformer.apis.build_model_from_config`.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from .libraries import flatten_tensors, forward_candidates
from .models.backbones.base import find_uniformer
from .models.layers import fused_kernels

Inputs = Union[torch.Tensor, Tuple[torch.Tensor, ...]]
ForwardFn = Callable[..., Any]

__all__ = ['Complexity', 'ModelReport', 'analyze_complexity', 'analyze_model',
           'count_params_flops', 'find_uniformer', 'stage_breakdown']


# ----------------------------------------------------------------------------- tracing
class _Traced(nn.Module):
    """Wraps ``model`` so that tracing runs ``forward(model, *inputs)``."""

    def __init__(self, model: nn.Module, forward: ForwardFn) -> None:
        super().__init__()
        self.model = model
        self._call = forward

    def forward(self, *inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = flatten_tensors(self._call(self.model, *inputs))
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

    The model is put in eval mode (and restored), runs without gradients, on its explicit
    paths (plain attention and kernels). Parameters are those of the modules the forward called.
    """
    inputs = (inputs, ) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    wrapper = _Traced(model, forward or (lambda m, *x: m(*x)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), fused_kernels(model, False):
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
    for cand in forward_candidates(model):
        try:
            result = analyze_complexity(model, x, cand.fn)
        except Exception as err:  # noqa: BLE001  any failure: try the next, smaller forward
            first_line = str(err).splitlines()[0] if str(err) else ''
            failures.append((cand.description, f'{type(err).__name__}: {first_line}'))
            continue
        return ModelReport(cand.description, result, failures)
    raise RuntimeError('no forward of the model could be traced:\n' +
                       '\n'.join(f'  {d}: {e}' for d, e in failures))


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
