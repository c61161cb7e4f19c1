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


def video_to_temporal_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B * H * W, T, C)``: one sequence over time per location."""
    b, c, t, h, w = x.shape
    return x.flatten(3).permute(0, 3, 2, 1).reshape(b * h * w, t, c)


def temporal_to_frame_tokens(x: torch.Tensor, batch: int) -> torch.Tensor:
    """``(B * H * W, T, C)`` -> ``(B * T, H * W, C)``: one sequence over space per frame."""
    n, t, c = x.shape
    hw = n // batch
    return x.view(batch, hw, t, c).transpose(1, 2).reshape(batch * t, hw, c)


def video_to_frame_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B * T, H * W, C)``."""
    b, c, t, h, w = x.shape
    return x.flatten(3).permute(0, 2, 3, 1).reshape(b * t, h * w, c)
