"""UniFormer building blocks, shared by the image (2-D) and video (3-D) models.

Every block works on channels-first feature maps ``(B, C, *S)`` where ``S`` is
``(H, W)`` for images and ``(T, H, W)`` for video; ``ndim`` (2 or 3) picks the
convolution and batch-norm classes. Tokens are ``(B, N, C)`` with ``N = prod(S)``.
Module attribute names follow the official release, so official state dicts map
onto these modules key for key (see :mod:`mmuniformer.checkpoint`).
"""
import contextlib
import copy
from typing import Any, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath

from ...validation import check_positive, check_positive_int, check_rate
from . import inference as ik
from .tokens import (map_to_tokens, temporal_to_frame_tokens, tokens_to_map, video_to_frame_tokens,
                     video_to_temporal_tokens)

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


def conv_nd(ndim: int) -> type:
    """Return ``nn.Conv2d`` or ``nn.Conv3d`` for ``ndim`` spatial dims."""
    if ndim not in _CONV:
        raise ValueError(f'ndim must be 2 (images) or 3 (video), got {ndim}')
    return _CONV[ndim]


def bn_nd(ndim: int) -> type:
    """Return ``nn.BatchNorm2d`` or ``nn.BatchNorm3d`` for ``ndim`` spatial dims."""
    if ndim not in _BN:
        raise ValueError(f'ndim must be 2 (images) or 3 (video), got {ndim}')
    return _BN[ndim]


class _PointwiseMixin:
    """A 1x1(x1) convolution computed as a matmul over the channels-last view.

    ``(B, C_in, *S) -> (B, C_out, *S)``, the same parameters (and state-dict keys) as
    the convolution it subclasses. On a channels-last map ``x.movedim(1, -1)`` is a
    contiguous ``(B, *S, C_in)`` view, so the product needs no layout copy and its
    result, moved back, is channels-last again (the CPU convolution kernels copy
    channels-last inputs of 1x1 convolutions to channels-first and back). Other inputs
    go through the convolution.
    """

    weight: torch.Tensor
    bias: Optional[torch.Tensor]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        if not x.is_contiguous(memory_format=fmt):  # channels-first: the convolution
            return super().forward(x)  # type: ignore[misc]
        return F.linear(x.movedim(1, -1), self.weight.flatten(1), self.bias).movedim(-1, 1)


class PointwiseConv2d(_PointwiseMixin, nn.Conv2d):
    """``nn.Conv2d(in_channels, out_channels, 1)`` run as a channels-last matmul."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 1, bias=bias)


class PointwiseConv3d(_PointwiseMixin, nn.Conv3d):
    """``nn.Conv3d(in_channels, out_channels, 1)`` run as a channels-last matmul."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 1, bias=bias)


_POINTWISE = {2: PointwiseConv2d, 3: PointwiseConv3d}


def pointwise_conv_nd(ndim: int) -> type:
    """Return :class:`PointwiseConv2d` or :class:`PointwiseConv3d` for ``ndim`` spatial dims."""
    if ndim not in _POINTWISE:
        raise ValueError(f'ndim must be 2 (images) or 3 (video), got {ndim}')
    return _POINTWISE[ndim]


def _ntuple(value: Union[int, Sequence[int]], ndim: int, name: str = 'value'
            ) -> Tuple[int, ...]:
    """``value`` as ``ndim`` ints (an int is repeated); ``ValueError`` naming ``name``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, ) * ndim
    value = tuple(value) if isinstance(value, (list, tuple)) else (value, )
    if len(value) != ndim or not all(isinstance(v, int) and not isinstance(v, bool)
                                     for v in value):
        raise ValueError(f'{name} takes an int or {ndim} ints (one per dim), got {value}')
    return value


def _odd_kernel(value: Union[int, Sequence[int]], ndim: int, name: str) -> Tuple[int, ...]:
    """A depth-wise kernel with 'same' padding: ``ndim`` odd positive ints."""
    kernel = _ntuple(value, ndim, name)
    if any(k < 1 or k % 2 == 0 for k in kernel):
        raise ValueError(f'{name} must be odd positive ints (same-size padding), got {kernel}')
    return kernel


class LayerScale(nn.Module):
    """Per-channel learnable scale (``gamma``) on a residual branch.

    Stored as a ``(C,)`` vector; applied over dim 1 of a channels-first map or the
    last dim of tokens.
    """

    def __init__(self, dim: int, init_value: float, channels_last: bool) -> None:
        super().__init__()
        check_positive_int(dim=dim)
        check_positive(layer_scale=init_value)
        self.weight = nn.Parameter(torch.full((dim, ), float(init_value)))
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            return x * self.weight
        return x * self.weight.view(1, -1, *([1] * (x.dim() - 2)))


class ConvMlp(nn.Module):
    """Point-wise conv MLP on ``(B, C, *S)``: fc1 -> GELU -> fc2 (channels-last matmuls)."""

    def __init__(self, dim: int, hidden_dim: int, ndim: int = 2, drop: float = 0.) -> None:
        super().__init__()
        check_positive_int(dim=dim, hidden_dim=hidden_dim)
        check_rate(drop=drop)
        pointwise = pointwise_conv_nd(ndim)
        self.fc1 = pointwise(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = pointwise(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Mlp(nn.Module):
    """Token MLP on ``(B, N, C)``: fc1 -> GELU -> fc2 (fused kernels in inference,
    :mod:`.inference`, unless ``fused`` is False: :mod:`.fused`)."""

    fused_kind = 'inference'

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.) -> None:
        super().__init__()
        check_positive_int(dim=dim, hidden_dim=hidden_dim)
        check_rate(drop=drop)
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)
        self.fused = True  # False: always the plain path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.fused and ik.inference_kernels_apply(x, ik.is_frozen(self))
                and x.is_contiguous()):
            dtype = ik.compute_dtype(x)
            w1, b1, w2, b2 = self._weights(dtype)
            return ik.linear(ik.linear(x.to(dtype), w1, b1, gelu=True), w2, b2)
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))

    def _weights(self, dtype: torch.dtype) -> ik.Folds:
        """fc1 and fc2 weights and biases in ``dtype``, cast once (:func:`ik.cached_folds`)."""
        return ik.cached_folds(self, dtype, self.parameters, self._sources)

    def _sources(self) -> ik.Folds:
        return self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias

    def freeze_inference(self, dtype: torch.dtype) -> None:
        """Cast the weights for the inference kernels once, for good (an inference-only
        model: later parameter updates are not seen by them)."""
        ik.freeze_folds(self, dtype, self._sources)


def _cpu_low_precision_grad(x: torch.Tensor) -> bool:
    """A bfloat16/float16 tensor on CPU while autograd records (a mixed-precision training
    step): where some fused kernels' backward passes are slower than plain ones."""
    return (x.device.type == 'cpu' and x.dtype in (torch.bfloat16, torch.float16)
            and torch.is_grad_enabled())


def _depthwise(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` for a depthwise ``conv``; in a CPU autocast training step in float32
    with autocast off: oneDNN's bf16 channels-last depthwise backward is ~2x slower than its
    float32 one (5x5 kernels, AVX512-BF16, 1 thread), while the 1x1 convolutions around it
    keep autocast's bf16."""
    if _cpu_low_precision_grad(x) and torch.is_autocast_enabled('cpu'):
        with torch.autocast('cpu', enabled=False):
            return conv(x.float())
    return conv(x)


class Attention(nn.Module):
    """Multi-head self-attention on tokens ``(B, N, C)``.

    Uses ``F.scaled_dot_product_attention`` while ``fused`` is True (``use_sdpa``;
    switched for whole models by :mod:`.fused`), else the explicit
    ``softmax(q k^T * scale) v`` path (the reference the tests compare against); a
    bf16/fp16 training step on CPU also takes the explicit path, whose backward is faster there.

    Args:
        dim: token width ``C``.
        num_heads: heads; ``C`` must be divisible by it.
        qkv_bias: bias on the qkv projection.
        attn_drop: dropout on the attention weights (training only).
        proj_drop: dropout after the output projection.
        use_sdpa: the initial ``fused`` flag: use the fused kernel.
        fp32: compute ``softmax(q k^T) v`` (and the score row) in float32 with autocast
            off, from float32 copies of q, k, v, as the official ``_fp32`` light video
            models do against overflow under mixed precision; the projections still
            follow autocast.
    """

    fused_kind = 'attention'

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 use_sdpa: bool = True,
                 fp32: bool = False) -> None:
        super().__init__()
        check_positive_int(dim=dim, num_heads=num_heads)
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        check_rate(attn_drop=attn_drop, proj_drop=proj_drop)
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.attn_drop = attn_drop
        self.fused = use_sdpa
        self.fp32 = fp32
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def _qkv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, heads, N, head_dim)
        return q, k, v

    def forward(self, x: torch.Tensor, return_first_row: bool = False
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """``(B, N, C) -> (B, N, C)``.

        With ``return_first_row`` it also returns the head-averaged attention of
        token 0 to tokens ``1..N-1``, shape ``(B, N - 1)`` (the light models'
        score-token importance).
        """
        b, n, c = x.shape
        q, k, v = self._qkv(x)
        autocast_off = (torch.autocast(x.device.type, enabled=False) if self.fp32 else
                        contextlib.nullcontext())
        with autocast_off:
            if self.fp32:
                q, k, v = q.float(), k.float(), v.float()
            drop = self.attn_drop if self.training else 0.
            if self.fused and not _cpu_low_precision_grad(q):
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
                if return_first_row:  # the fused kernel does not return the weights
                    row = ((q[:, :, :1] @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
            else:  # also a low-precision training step on CPU, where the fused kernel's
                # backward is ~2x slower than this (bf16, AVX512-BF16, 1 thread); CPU's
                # softmax computes in float32 inside and rounds its output
                attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
                row = attn[:, :, :1]  # (B, heads, 1, N), before dropout
                out = F.dropout(attn, drop, self.training) @ v
        if out.dtype != self.proj.weight.dtype and not torch.is_autocast_enabled(x.device.type):
            out = out.to(self.proj.weight.dtype)  # float32 attention (fp32) in a bf16/fp16 model
        out = self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))
        if not return_first_row:
            return out
        return out, row[:, :, 0, 1:].mean(dim=1)


class LocalBlock(nn.Module):
    """Local MHRA block ("CBlock") on ``(B, C, *S)``.

    ``x + DPE(x)``, then ``x + conv2(dw(conv1(BN(x))))`` and ``x + ConvMlp(BN(x))``,
    each residual branch with drop path and optional layer scale. On a channels-last map
    (the backbones' layout) the 1x1 convolutions are matmuls without layout copies
    (:class:`PointwiseConv2d`); channels-first maps run through the convolutions. In
    evaluation without autograd, on a channels-last float32 map, the same function runs
    through folded, fused kernels (:meth:`_forward_inference`) unless ``fused`` is False
    (:mod:`.fused`).

    Args:
        dim: channels.
        mlp_ratio: hidden width of the MLP as a multiple of ``dim``.
        drop_path: stochastic-depth rate.
        layer_scale: initial value of the per-channel scales, or None for none.
        ndim: 2 (images) or 3 (video).
        dpe_kernel: depthwise kernel of the dynamic position embedding.
        local_kernel: depthwise kernel of the local relation aggregator.
    """

    fused_kind = 'inference'

    def __init__(self,
                 dim: int,
                 mlp_ratio: float = 4.,
                 drop: float = 0.,
                 drop_path: float = 0.,
                 layer_scale: Optional[float] = None,
                 ndim: int = 2,
                 dpe_kernel: Union[int, Sequence[int]] = 3,
                 local_kernel: Union[int, Sequence[int]] = 5) -> None:
        super().__init__()
        conv = conv_nd(ndim)
        check_positive_int(dim=dim)
        check_positive(mlp_ratio=mlp_ratio)
        check_rate(drop_path=drop_path)
        dpe_kernel = _odd_kernel(dpe_kernel, ndim, 'dpe_kernel')
        local_kernel = _odd_kernel(local_kernel, ndim, 'local_kernel')
        self.pos_embed = conv(dim, dim, dpe_kernel, padding=tuple(k // 2 for k in dpe_kernel), groups=dim)
        self.norm1 = bn_nd(ndim)(dim)
        self.conv1 = pointwise_conv_nd(ndim)(dim, dim)
        self.attn = conv(dim, dim, local_kernel, padding=tuple(k // 2 for k in local_kernel), groups=dim)
        self.conv2 = pointwise_conv_nd(ndim)(dim, dim)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = bn_nd(ndim)(dim)
        self.mlp = ConvMlp(dim, int(dim * mlp_ratio), ndim, drop)
        self.ls1 = LayerScale(dim, layer_scale, False) if layer_scale is not None else nn.Identity()
        self.ls2 = LayerScale(dim, layer_scale, False) if layer_scale is not None else nn.Identity()
        self.fused = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._inference_kernels_apply(x):
            return self._forward_inference(x)
        x = x + self.pos_embed(x)
        y = _depthwise(self.attn, self.conv1(self.norm1(x)))
        x = x + self.drop_path(self.ls1(self.conv2(y)))
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))

    def _inference_kernels_apply(self, x: torch.Tensor) -> bool:
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        return (self.fused and ik.inference_kernels_apply(x, ik.is_frozen(self))
                and x.is_contiguous(memory_format=fmt)
                and ik.uses_running_stats(self.norm1) and ik.uses_running_stats(self.norm2))

    def _folds(self) -> ik.Folds:
        """The weights of :meth:`_forward_inference` in float32: DPE + identity, ``conv1``
        with ``norm1`` folded in, the local aggregator, ``conv2`` with ``ls1``, ``mlp.fc1``
        with ``norm2``, ``mlp.fc2`` with ``ls2`` (weights and biases)."""
        mlp = self.mlp
        w1, b1 = ik.fold_input_affine(self.conv1.weight.flatten(1), self.conv1.bias,
                                      *ik.bn_scale_shift(self.norm1))
        w2, b2 = ik.fold_output_scale(self.conv2.weight.flatten(1), self.conv2.bias, self.ls1)
        w3, b3 = ik.fold_input_affine(mlp.fc1.weight.flatten(1), mlp.fc1.bias,
                                      *ik.bn_scale_shift(self.norm2))
        w4, b4 = ik.fold_output_scale(mlp.fc2.weight.flatten(1), mlp.fc2.bias, self.ls2)
        return (ik.plus_identity_weight(self.pos_embed), self.pos_embed.bias, self.attn.weight,
                self.attn.bias, w1, b1, w2, b2, w3, b3, w4, b4)

    def _sources(self) -> Tuple[torch.Tensor, ...]:
        return tuple(self.parameters()) + tuple(self.buffers())

    def freeze_inference(self, dtype: torch.dtype) -> None:
        """Fold (:meth:`_folds`) once, in float32, cast to ``dtype`` and keep the result for
        good: an inference-only block (later parameter updates are not seen by the
        kernels). Call it before casting the block's own parameters."""
        ik.freeze_folds(self, dtype, self._folds)

    def _forward_inference(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` in evaluation without autograd, on a channels-last map: DPE
        and residual as one convolution, the BatchNorms folded into ``conv1`` and
        ``mlp.fc1``, layer scales into ``conv2`` and ``mlp.fc2``, the 1x1 convolutions
        (with bias and GELU) as fused linear kernels, residual sums in place. The folds are
        computed once per dtype (:func:`ik.cached_folds`); under autocast the block
        computes in autocast's dtype and returns it."""
        dtype = ik.compute_dtype(x)
        dpe_w, dpe_b, local_w, local_b, w1, b1, w2, b2, w3, b3, w4, b4 = ik.cached_folds(
            self, dtype, self._sources, self._folds)
        x = self.pos_embed._conv_forward(x.to(dtype), dpe_w, dpe_b)
        tokens = x.movedim(1, -1)  # (B, *S, C), contiguous on a channels-last map
        y = self.attn._conv_forward(ik.linear(tokens, w1, b1).movedim(-1, 1), local_w, local_b)
        x = ik.linear(y.movedim(1, -1).contiguous(), w2, b2).add_(tokens)
        y = ik.linear(x, w3, b3, gelu=True)
        return ik.linear(y, w4, b4).add_(x).movedim(-1, 1)


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """``(B, H, W, C)`` (H, W multiples of the window) -> ``(B * nW, ws * ws, C)``."""
    b, h, w, c = x.shape
    x = x.view(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size * window_size, c)


def window_reverse(windows: torch.Tensor, window_size: int, h: int, w: int) -> torch.Tensor:
    """``(B * nW, ws * ws, C)`` -> ``(B, H, W, C)``; inverse of :func:`window_partition`."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window_size, w // window_size, window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


#: ``GlobalBlock(eval_window_size=SAME_WINDOW)``: the same window in training and test
SAME_WINDOW = 'same'


def _check_window(name: str, window: Optional[int], ndim: int) -> Optional[int]:
    """A window side: None (global attention) or a positive int, 2-D only."""
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f'{name} must be a positive int, got {window!r} (None: global '
                         'attention)')
    if ndim != 2:
        raise ValueError(f'{name}={window}: window attention is implemented for 2-D inputs '
                         f'(ndim=2) only, got ndim={ndim}')
    return window


class GlobalBlockBase(nn.Module):
    """The parts of a global MHRA block on ``(B, C, *S)`` and its residual steps:
    ``x + DPE(x)`` (:meth:`add_position`), ``LN -> MHSA`` and ``LN -> MLP`` on tokens
    ``(B, N, C)``, each with drop path and optional layer scale. The blocks built on it
    (:class:`GlobalBlock`, :class:`SplitGlobalBlock`, the light models' hourglass block)
    define their own ``forward``; the module names follow the official release.

    Args:
        dim: channels.
        num_heads: attention heads (``dim`` divisible by it).
        mlp_ratio: hidden width of the MLP as a multiple of ``dim`` (> 0).
        qkv_bias: bias on the qkv projection.
        drop / attn_drop / drop_path: dropout, attention dropout and stochastic-depth
            rates, each in [0, 1).
        layer_scale: initial value (> 0) of the per-channel scales, or None for none.
        use_sdpa: the attention's initial ``fused`` flag (:mod:`.fused`).
        attn_fp32: attention in float32 under autocast (:class:`Attention` ``fp32``).
        ndim: 2 (images) or 3 (video).
        dpe_kernel: depth-wise kernel of the dynamic position embedding (odd).
        norm_eps: LayerNorm eps.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 layer_scale: Optional[float] = None,
                 use_sdpa: bool = True,
                 attn_fp32: bool = False,
                 ndim: int = 2,
                 dpe_kernel: Union[int, Sequence[int]] = 3,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        check_positive(mlp_ratio=mlp_ratio, norm_eps=norm_eps)
        check_rate(drop_path=drop_path)
        dpe_kernel = _odd_kernel(dpe_kernel, ndim, 'dpe_kernel')
        self.pos_embed = conv_nd(ndim)(
            dim, dim, dpe_kernel, padding=tuple(k // 2 for k in dpe_kernel), groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop, use_sdpa, fp32=attn_fp32)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        self.ls1 = LayerScale(dim, layer_scale, True) if layer_scale is not None else nn.Identity()
        self.ls2 = LayerScale(dim, layer_scale, True) if layer_scale is not None else nn.Identity()

    def add_position(self, x: torch.Tensor) -> torch.Tensor:
        """``x + DPE(x)`` on ``(B, C, *S)``."""
        return x + self.pos_embed(x)

    def add_mlp(self, x: torch.Tensor) -> torch.Tensor:
        """``x + drop_path(ls2(MLP(LN(x))))`` on tokens ``(B, N, C)``."""
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))


class GlobalBlock(GlobalBlockBase):
    """Global MHRA block ("SABlock") on ``(B, C, *S)``.

    ``x + DPE(x)``, flatten to tokens, ``x + MHSA(LN(x))``, ``x + MLP(LN(x))``.
    With a window (2-D only) attention runs in non-overlapping windows; the map is
    zero-padded (after the first LayerNorm) to a multiple of the window, without masking,
    and cropped back, as in the official dense-task models. The block holds its training
    and its test window and uses the one of its mode (``self.training``): the same weights
    serve both, as the paper's segmentation models trained global and tested windowed.

    Args:
        window_size: window side in training, or None for global attention.
        eval_window_size: window side in evaluation (None: global); default the same as
            ``window_size``.
        **kwargs: the arguments of :class:`GlobalBlockBase` (``mlp_ratio``, rates,
            ``layer_scale``, ``ndim``, ...).
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 window_size: Optional[int] = None,
                 eval_window_size: Union[int, None, str] = SAME_WINDOW,
                 **kwargs: Any) -> None:
        ndim = kwargs.get('ndim', 2)
        train_window = _check_window('window_size', window_size, ndim)
        eval_window = (train_window if eval_window_size == SAME_WINDOW else
                       _check_window('eval_window_size', eval_window_size, ndim))
        super().__init__(dim, num_heads, **kwargs)
        self.train_window_size, self.eval_window_size = train_window, eval_window

    @property
    def window_size(self) -> Optional[int]:
        """The window of the current mode (None: global attention)."""
        return self.train_window_size if self.training else self.eval_window_size

    def _window_attn(self, x: torch.Tensor, size: Tuple[int, ...], ws: int) -> torch.Tensor:
        """Attention in ``ws x ws`` windows on normalised tokens ``(B, H*W, C)``."""
        h, w = size
        x = x.view(x.shape[0], h, w, -1)
        pad_b, pad_r = (ws - h % ws) % ws, (ws - w % ws) % ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        hp, wp = h + pad_b, w + pad_r
        x = window_reverse(self.attn(window_partition(x, ws)), ws, hp, wp)
        return x[:, :h, :w].reshape(x.shape[0], h * w, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, *S) -> (B, C, *S)``."""
        x = self.add_position(x)
        size = x.shape[2:]
        x = map_to_tokens(x)
        window = self.window_size
        if window is None:
            x = x + self.drop_path(self.ls1(self.attn(self.norm1(x))))
        else:
            x = x + self.drop_path(self.ls1(self._window_attn(self.norm1(x), size, window)))
        return tokens_to_map(self.add_mlp(x), size)


class SplitGlobalBlock(GlobalBlock):
    """Divided space-time global block (the official "SplitSABlock"), video only.

    On ``(B, C, T, H, W)``: ``x = x + DPE(x)``; temporal attention over ``T`` for
    each spatial location, ``u = x + t_attn(t_norm(x))`` on ``(B*H*W, T, C)``;
    spatial attention over ``H*W`` for each frame, ``x = x + attn(norm1(u))`` on
    ``(B*T, H*W, C)`` (the residual is ``x``, not ``u``, as in the official
    block); then ``x + MLP(norm2(x))`` on ``(B, T*H*W, C)``. Drop path acts on
    each of these sequences. The temporal attention starts as a zero branch
    (:meth:`init_temporal_weights`). Arguments as :class:`GlobalBlock`, without
    windows; layer scale, if any, covers the spatial and MLP branches.
    """

    def __init__(self, dim: int, num_heads: int, ndim: int = 3, **kwargs: Any) -> None:
        if ndim != 3:
            raise ValueError(f'split (divided space-time) attention needs video inputs (ndim=3), '
                             f'got ndim={ndim}')
        windows = (kwargs.get('window_size'), kwargs.get('eval_window_size', SAME_WINDOW))
        if windows[0] is not None or windows[1] not in (None, SAME_WINDOW):
            raise ValueError('split (divided space-time) attention has no windows')
        super().__init__(dim, num_heads, ndim=ndim, **kwargs)
        self.t_norm = nn.LayerNorm(dim, eps=self.norm1.eps)
        self.t_attn = copy.deepcopy(self.attn)  # same configuration; init_temporal_weights
        self.init_temporal_weights()

    def init_temporal_weights(self) -> None:
        """Official temporal-attention init: qkv weight and bias 0, proj weight 1, bias 0,
        so the temporal branch outputs 0 but its qkv still receives gradients."""
        nn.init.zeros_(self.t_attn.qkv.weight)
        if self.t_attn.qkv.bias is not None:
            nn.init.zeros_(self.t_attn.qkv.bias)
        nn.init.ones_(self.t_attn.proj.weight)
        nn.init.zeros_(self.t_attn.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W) -> (B, C, T, H, W)``."""
        x = self.add_position(x)
        b, _, t, h, w = x.shape
        u = video_to_temporal_tokens(x)  # (B*H*W, T, C)
        u = u + self.drop_path(self.t_attn(self.t_norm(u)))
        u = temporal_to_frame_tokens(u, b)  # (B*T, H*W, C)
        y = video_to_frame_tokens(x) + self.drop_path(self.ls1(self.attn(self.norm1(u))))
        y = y.reshape(b, t * h * w, -1)  # frame-major: the order of map_to_tokens
        return tokens_to_map(self.add_mlp(y), (t, h, w))
