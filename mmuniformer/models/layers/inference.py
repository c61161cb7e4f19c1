"""Inference kernels: the blocks' own functions computed with fewer passes over memory.

In evaluation (BatchNorm on running statistics) a local block's ``conv1(BN(x))`` is one
1x1 convolution with the BatchNorm folded into its weights, ``x + DPE(x)`` is one
depthwise convolution with the identity added to its centre tap, a layer scale folds
into the convolution before it, GELU runs in place, and on CPU, on the shapes where it is
faster, ``GELU(fc1(x))`` and the biases are fused into oneDNN's linear kernel
(``torch.ops.mkldnn._linear_pointwise``, the kernel PyTorch's own inductor uses on CPU).
The results equal the plain path up to float rounding
(``tests/test_models/test_layers/test_inference_kernels.py``).

They run only where nothing can tell the difference: no autograd graph is recorded
(``torch.no_grad`` / ``torch.inference_mode``, as in mmengine's val/test loops and the
inferencers), floating inputs (float32, bfloat16, float16), and not while ``torch.compile``,
TorchScript or ONNX export trace the model (those see the plain path and fuse on their own)
unless the folds were frozen (:func:`freeze_folds`, used by :func:`mmuniformer.apis.optimize`),
in which case the traced graph sees the folded weights and plain ``linear``/``gelu`` ops.
Under ``torch.autocast`` they compute in the autocast dtype, as autocast's convolutions and
linears would (:func:`compute_dtype`).

Folds are computed once: :func:`cached_folds` keeps them on the module, per dtype, and
recomputes them only when a source parameter or statistic changed (its storage or its
version counter, which every in-place update such as an optimizer step or
``load_state_dict`` advances).
"""
from typing import Callable, Iterable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm


#: input dtypes the kernels take
FLOAT_DTYPES = (torch.float32, torch.bfloat16, torch.float16)

Folds = Tuple[Optional[torch.Tensor], ...]


def inference_kernels_apply(x: torch.Tensor, frozen: bool = False) -> bool:
    """Whether the inference kernels may run on input ``x`` (see the module docstring);
    ``frozen``: the module's folds are frozen, so a ``torch.compile`` trace may take them."""
    return (not torch.is_grad_enabled() and x.dtype in FLOAT_DTYPES
            and (frozen or not torch.compiler.is_compiling()) and not torch.jit.is_tracing()
            and not torch.jit.is_scripting() and not torch.onnx.is_in_onnx_export())


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype the kernels compute ``x`` in: autocast's dtype where autocast is on for
    ``x``'s device (its convolutions and linears would run in it), else ``x.dtype``."""
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def is_frozen(module: nn.Module) -> bool:
    """Whether :func:`freeze_folds` froze ``module``'s folds."""
    return getattr(module, '_ik_frozen', None) is not None


def _stamp(dtype: torch.dtype, sources: Iterable[torch.Tensor]) -> Optional[tuple]:
    try:
        return (dtype, ) + tuple((t.data_ptr(), t._version) for t in sources)
    except RuntimeError:  # inference tensors have no version counter: do not cache
        return None


def cached_folds(module: nn.Module, dtype: torch.dtype,
                 sources: Callable[[], Iterable[torch.Tensor]], make: Callable[[], Folds]) -> Folds:
    """``make()``'s tensors (computed without autograd, cast to ``dtype``), computed once
    per ``dtype`` and state of ``sources()`` (the parameters and buffers they derive from)
    and kept on ``module``; frozen folds (:func:`freeze_folds`) of ``dtype`` are returned
    without checks."""
    frozen = getattr(module, '_ik_frozen', None)
    if frozen is not None and frozen[0] == dtype:
        return frozen[1]
    stamp = _stamp(dtype, sources())
    cache = getattr(module, '_ik_cache', None)
    if stamp is not None and cache is not None and cache[0] == stamp:
        return cache[1]
    with torch.no_grad():
        folds = tuple(None if t is None else t.to(dtype) for t in make())
    if stamp is not None:
        object.__setattr__(module, '_ik_cache', (stamp, folds))
    return folds


def freeze_folds(module: nn.Module, dtype: torch.dtype, make: Callable[[], Folds]) -> None:
    """Compute ``make()``'s folds once in ``dtype`` and keep them for good: later updates
    of the module's parameters are not seen (an inference-only model, as
    :func:`mmuniformer.apis.optimize` returns)."""
    with torch.no_grad():
        folds = tuple(None if t is None else t.to(dtype).contiguous() for t in make())
    object.__setattr__(module, '_ik_frozen', (dtype, folds))


# oneDNN's fused linear (bias and GELU in the kernel, no bias broadcast copy, no separate
# GELU pass) beats MKL's addmm + GELU on the shallow stages' shapes (many rows, small
# weights: 1.1-1.3x on 25088 x 64 -> 256 and 25088 x 256 -> 64, 1 thread) but loses on the
# deep stages' (0.65-0.8x on 1568 x 320 -> 1280: its per-call weight reorder and GEMM), so it
# is used only on shapes like the former.
ONEDNN_MIN_ROWS = 8192
ONEDNN_MAX_WEIGHT = 32768


def _onednn_dtype(dtype: torch.dtype) -> bool:
    return dtype == torch.float32 or (dtype == torch.bfloat16
                                      and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _onednn_linear_suits(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return (x.device.type == 'cpu' and not torch.compiler.is_compiling()
            and _onednn_dtype(x.dtype) and x.is_contiguous()
            and weight.numel() <= ONEDNN_MAX_WEIGHT
            and x.numel() >= ONEDNN_MIN_ROWS * x.shape[-1] and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, '_linear_pointwise'))


def linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
           gelu: bool = False) -> torch.Tensor:
    """``(..., C_in) -> (..., C_out)``: ``x @ weight.T + bias``, then exact (erf) GELU if
    ``gelu``. On CPU, for many rows and a small ``weight`` ``(C_out, C_in)``, one oneDNN call
    with bias and GELU fused (float32, and bfloat16 where oneDNN has bf16 kernels);
    otherwise ``F.linear`` and GELU in place on its output (also in a compiled graph, where
    inductor picks its own kernels)."""
    if _onednn_linear_suits(x, weight):
        if gelu:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, 'gelu', [], 'none')
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, 'none', [], '')
    out = F.linear(x, weight, bias)
    return torch.ops.aten.gelu_(out) if gelu else out


def uses_running_stats(bn: _BatchNorm) -> bool:
    """Whether ``bn`` normalises with its running statistics (and so is an affine map)."""
    return not bn.training and bn.running_mean is not None and bn.running_var is not None


def bn_scale_shift(bn: _BatchNorm) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(C,)`` scale and shift with ``bn(x) = x * scale + shift`` per channel (running stats)."""
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale, shift


def fold_input_affine(weight: torch.Tensor, bias: Optional[torch.Tensor], scale: torch.Tensor,
                      shift: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Weights ``(C_out, C_in)`` and bias of ``x -> W (x * scale + shift) + b``."""
    new_bias = weight @ shift
    if bias is not None:
        new_bias = new_bias + bias
    return weight * scale, new_bias


def fold_output_scale(weight: torch.Tensor, bias: Optional[torch.Tensor], layer_scale: nn.Module
                      ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Weights ``(C_out, C_in)`` and bias of ``x -> gamma * (W x + b)`` for a
    :class:`LayerScale` ``gamma`` (``nn.Identity`` leaves them as they are)."""
    gamma = getattr(layer_scale, 'weight', None)
    if gamma is None:
        return weight, bias
    return weight * gamma[:, None], None if bias is None else bias * gamma


def plus_identity_weight(conv: nn.Module) -> torch.Tensor:
    """The weight of ``x -> x + conv(x)`` for a depthwise ``conv`` with odd kernel and
    'same' padding: ``conv``'s weight with 1 added to the centre tap."""
    weight = conv.weight.detach().clone()
    centre = tuple(k // 2 for k in weight.shape[2:])
    weight[(slice(None), 0) + centre] += 1
    return weight


def conv_plus_identity(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x + conv(x)`` as one convolution (:func:`plus_identity_weight`).
    ``(B, C, *S) -> (B, C, *S)``."""
    return conv._conv_forward(x, plus_identity_weight(conv), conv.bias)
