"""Patch embeddings: plain (non-overlapping conv + LayerNorm) and overlapped conv stems."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn

from .blocks import _ntuple, bn_nd, conv_nd
from .tokens import channels_last_norm

IntOrSeq = Union[int, Sequence[int]]


class PatchEmbed(nn.Module):
    """Non-overlapping patch embedding: conv (kernel = stride) then LayerNorm over channels.

    ``(B, C_in, *S) -> (B, C_out, *S')``; the LayerNorm has torch's default eps (1e-5),
    as in the official models.

    Args:
        in_channels: input channels.
        embed_dim: output channels.
        kernel_size: conv kernel per dim.
        stride: conv stride per dim (defaults to the kernel).
        padding: conv padding per dim.
        ndim: 2 (images) or 3 (video).
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int,
                 kernel_size: IntOrSeq,
                 stride: IntOrSeq = None,
                 padding: IntOrSeq = 0,
                 ndim: int = 2) -> None:
        super().__init__()
        kernel_size = _ntuple(kernel_size, ndim)
        stride = kernel_size if stride is None else _ntuple(stride, ndim)
        self.proj = conv_nd(ndim)(in_channels, embed_dim, kernel_size, stride, _ntuple(padding, ndim))
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channels_last_norm(self.norm, self.proj(x))


class ConvEmbed(nn.Module):
    """Overlapped conv embedding built from 3x3 (x3) convs with batch norm.

    One stride: ``conv -> BN`` (S-dagger's later stages). Two strides:
    ``conv(C/2) -> BN -> GELU -> conv(C) -> BN`` (the overlapped conv stem).
    Submodule indices match the official ``proj`` Sequential (0, 1, 3, 4).

    Args:
        in_channels: input channels.
        embed_dim: output channels.
        strides: one or two strides, each an int or a per-dim tuple.
        ndim: 2 (images) or 3 (video).
    """

    def __init__(self, in_channels: int, embed_dim: int, strides: Sequence[IntOrSeq],
                 ndim: int = 2) -> None:
        super().__init__()
        if len(strides) not in (1, 2):
            raise ValueError(f'ConvEmbed takes one or two strides, got {strides}')
        conv, bn = conv_nd(ndim), bn_nd(ndim)
        k, p = (3, ) * ndim, (1, ) * ndim
        widths = [embed_dim // 2, embed_dim] if len(strides) == 2 else [embed_dim]
        layers = []
        cin = in_channels
        for i, (width, stride) in enumerate(zip(widths, strides)):
            if i:
                layers.append(nn.GELU())
            layers += [conv(cin, width, k, _ntuple(stride, ndim), p), bn(width)]
            cin = width
        self.proj = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def embed_stride(module: nn.Module) -> Tuple[int, ...]:
    """Total stride of an embedding module along each dim."""
    strides = [m.stride for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d))]
    total = [1] * len(strides[0])
    for s in strides:
        total = [a * b for a, b in zip(total, s)]
    return tuple(total)
