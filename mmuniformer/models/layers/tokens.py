"""The one place that converts channels-first feature maps to tokens and back."""
from typing import Sequence

import torch


def map_to_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, *S)`` -> ``(B, N, C)`` with ``N = prod(S)``."""
    return x.flatten(2).transpose(1, 2)


def tokens_to_map(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """``(B, N, C)`` -> ``(B, C, *size)``; inverse of :func:`map_to_tokens`."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *size)


def channels_last_norm(norm: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a LayerNorm over channels to a ``(B, C, *S)`` map."""
    return tokens_to_map(norm(map_to_tokens(x)), x.shape[2:])
