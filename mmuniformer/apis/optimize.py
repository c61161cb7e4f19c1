"""One call to the fastest inference model: :func:`optimize`.

``optimize(model, dtype='auto', compile=False)`` turns any model holding UniFormer
backbones (a backbone, an mmpretrain classifier, an mmaction2 recogniser, an mmdet / mmseg /
mmpose model) into an inference-only module with the same outputs within the precision of
``dtype``:

* every block's inference folds (BatchNorm, DPE and layer scale,
  :mod:`mmuniformer.models.layers.inference`) are computed once, in float32, and kept;
* the backbones' weights are cast to ``dtype`` and their convolution weights put in
  channels-last memory; each backbone casts its input to ``dtype`` (channels-last) and
  its outputs back to the input's dtype, so data preprocessors, necks and heads (mmcv's
  RoIAlign, losses, post-processing) keep running in float32 as before;
* with ``compile=True`` each backbone's forward goes through ``torch.compile`` (inductor,
  weight freezing, ``fullgraph=True``: no graph breaks).

``dtype='auto'`` picks bfloat16 on CPUs with bf16 matrix units (AMX-BF16 or AVX512-BF16
in ``/proc/cpuinfo``) and on CUDA GPUs with native bf16, float16 on older CUDA GPUs and
float32 elsewhere (:func:`auto_dtype`).
"""
import functools
import types
from typing import Any, Dict, FrozenSet, List, Optional, Union

import torch
import torch.nn as nn

from ..hardware import cpu_flags, cpu_has_bf16_units, matrix_units  # noqa: F401 (API)

#: accepted dtype names
DTYPES: Dict[str, torch.dtype] = {
    'fp32': torch.float32,
    'bf16': torch.bfloat16,
    'fp16': torch.float16,
}


def auto_dtype(device: Union[str, torch.device] = 'cpu',
               flags: Optional[FrozenSet[str]] = None) -> str:
    """``'bf16'``, ``'fp16'`` or ``'fp32'`` for ``device``: bf16 on a CPU with AMX-BF16 or
    AVX512-BF16 (``flags``: default :func:`cpu_flags`) and on a CUDA GPU with native bf16,
    fp16 on other CUDA GPUs, fp32 elsewhere."""
    device = torch.device(device)
    if device.type == 'cuda':
        return 'bf16' if torch.cuda.is_bf16_supported(including_emulation=False) else 'fp16'
    if device.type == 'cpu':
        flags = cpu_flags() if flags is None else flags
        return 'bf16' if cpu_has_bf16_units(flags) else 'fp32'
    return 'fp32'


def resolve_dtype(dtype: Union[str, torch.dtype],
                  device: Union[str, torch.device] = 'cpu') -> torch.dtype:
    """The torch dtype of ``dtype``: ``'auto'`` (:func:`auto_dtype` for ``device``),
    ``'fp32'``, ``'bf16'``, ``'fp16'`` or one of those three torch dtypes."""
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if dtype == 'auto':
        return DTYPES[auto_dtype(device)]
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be 'auto', 'fp32', 'bf16' or 'fp16', got {dtype!r}")


def _cast(obj: Any, dtype: torch.dtype, memory_format: bool = False) -> Any:
    """Floating tensors in ``obj`` (nested tuples, lists, dicts) cast to ``dtype``; with
    ``memory_format``, 4-D / 5-D ones also to channels-last."""
    if isinstance(obj, torch.Tensor):
        if not obj.is_floating_point():
            return obj
        fmt = {4: torch.channels_last, 5: torch.channels_last_3d}.get(obj.dim())
        if memory_format and fmt is not None:
            return obj.to(dtype=dtype, memory_format=fmt)
        return obj.to(dtype)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_cast(o, dtype, memory_format) for o in obj)
    if isinstance(obj, dict):
        return {k: _cast(v, dtype, memory_format) for k, v in obj.items()}
    return obj


def _optimized_forward(self: nn.Module, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    """The forward :func:`optimize` gives a backbone (bound to it, so that a deep copy calls
    its own copy): without autograd, the input cast to the backbone's dtype (channels-last),
    floating outputs cast back to the input's dtype."""
    dtype, compiled = self._optimized
    forward = compiled if compiled is not None else functools.partial(type(self).forward, self)
    with torch.no_grad():
        out = forward(_cast(x, dtype, memory_format=True), *args, **kwargs)
    return _cast(out, x.dtype) if x.is_floating_point() else out


def _backbones(model: nn.Module) -> List[nn.Module]:
    """The outermost UniFormer backbones in ``model`` (itself, or inside it)."""
    from ..models.backbones.base import UniFormerBase
    found: List[nn.Module] = []
    for _, module in model.named_modules():
        if isinstance(module, UniFormerBase) and not any(
                module in set(b.modules()) for b in found):
            found.append(module)
    return found


def optimize(model: nn.Module, dtype: Union[str, torch.dtype] = 'auto',
             compile: bool = False) -> nn.Module:
    """Make ``model`` an inference-only module with its outputs within ``dtype``'s precision.

    ``model`` is changed in place and returned (keep a ``copy.deepcopy`` for training): eval
    mode, no parameter requires grad; in every UniFormer backbone the blocks' folds are
    frozen (computed once in float32, then cast), the weights cast to ``dtype`` and
    convolution weights made channels-last, and the backbone's forward runs without
    autograd on its input cast to ``dtype`` (channels-last), returning its maps in the
    input's dtype. Other parts (data preprocessor, neck, heads) are left in float32.

    Args:
        model: a UniFormer / UniFormerLight backbone or any model containing them
            (mmpretrain classifier, mmaction2 recogniser, mmdet / mmseg / mmpose model).
        dtype: ``'auto'`` (:func:`auto_dtype` for the model's device), ``'fp32'``,
            ``'bf16'`` or ``'fp16'``.
        compile: also ``torch.compile`` each backbone's forward (inductor with weight
            freezing, ``fullgraph=True``); the first call per input shape compiles.

    Returns:
        ``model``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f'optimize takes an nn.Module, got {type(model).__name__}')
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    target = resolve_dtype(dtype, device)
    backbones = _backbones(model)
    if not backbones:
        raise ValueError(f'optimize found no UniFormer / UniFormerLight backbone in the '
                         f'{type(model).__name__} it was given')
    if any(getattr(b, '_optimized', None) is not None for b in backbones):
        raise ValueError('optimize was already applied to this model; optimize a fresh copy')
    model.eval()
    model.requires_grad_(False)
    for backbone in backbones:
        for module in backbone.modules():  # folds first, from the float32 weights
            if hasattr(module, 'freeze_inference'):
                module.freeze_inference(target)
        backbone.to(target)
        with torch.no_grad():
            for t in list(backbone.parameters()) + list(backbone.buffers()):
                fmt = {4: torch.channels_last, 5: torch.channels_last_3d}.get(t.dim())
                if fmt is not None and t.is_floating_point():
                    t.data = t.data.contiguous(memory_format=fmt)
        compiled = (torch.compile(backbone.forward, fullgraph=True, options={'freezing': True})
                    if compile else None)
        backbone._optimized = (target, compiled)
        backbone.forward = types.MethodType(_optimized_forward, backbone)
    return model
