"""Which tokens each hourglass block of the light UniFormer (H-UniFormer XXS / XS) kept.

A shrinking :class:`~mmuniformer.models.backbones.uniformer_light.HourglassBlock` ranks the
patch tokens by the running scores it receives and keeps the ``int(N * keep_ratio)`` best
(its own ``kept_count`` and ``rank_order``: equal scores by position); the others are merged
into one token. The scores enter the block as its third argument, so a forward pre-hook sees
exactly what the block ranks and the model's outputs do not change.
"""
import contextlib
from dataclasses import dataclass
from typing import Iterator, List, Tuple

import torch
import torch.nn as nn


@dataclass
class KeptTokens:
    """One shrinking block's selection: ``name`` (module name), ``grid`` (its map's
    ``(H, W)`` or ``(T, H, W)``), ``keep_ratio``, ``kept`` ``(B, n_keep)`` flat token indices
    in the grid, best-scored first, ``scores`` ``(B, N)`` the scores it ranked."""
    name: str
    grid: Tuple[int, ...]
    keep_ratio: float
    kept: torch.Tensor
    scores: torch.Tensor

    def mask(self) -> torch.Tensor:
        """``(B, *grid)`` boolean map, True where the token was kept."""
        b, n = self.scores.shape
        flat = torch.zeros(b, n, dtype=torch.bool, device=self.kept.device)
        flat.scatter_(1, self.kept, True)
        return flat.view(b, *self.grid)


def hourglass_blocks(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, block)`` of every shrinking hourglass block (``keep_ratio < 1``), in order."""
    from ..models.backbones.uniformer_light import HourglassBlock
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, HourglassBlock) and m.keep_ratio < 1]


@contextlib.contextmanager
def record_kept_tokens(model: nn.Module) -> Iterator[List[KeptTokens]]:
    """Within the context, each forward of a shrinking hourglass block appends its
    :class:`KeptTokens` to the yielded list."""
    from ..models.backbones.uniformer_light import kept_count, rank_order
    blocks = hourglass_blocks(model)
    if not blocks:
        raise ValueError(f'{type(model).__name__} has no shrinking hourglass block: token '
                         'selection exists in the light UniFormer (UniFormerLight) only')
    records: List[KeptTokens] = []

    def make_hook(name: str, block: nn.Module):
        def hook(_module: nn.Module, args: tuple) -> None:
            x, _score_token, scores = args[:3]
            n = scores.shape[1]
            n_keep = kept_count(n, block.keep_ratio)
            order = rank_order(scores)
            records.append(KeptTokens(name, tuple(x.shape[2:]), block.keep_ratio,
                                      order[:, :n_keep].detach(), scores.detach()))
        return hook

    handles = [b.register_forward_pre_hook(make_hook(n, b)) for n, b in blocks]
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()
