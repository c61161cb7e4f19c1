"""Lightweight hourglass UniFormer (H-UniFormer, XXS / XS) for images ``(B, C, H, W)``
and video ``(B, C, T, H, W)``.

Stages 1-2 are local MHRA blocks. Stages 3-4 are hourglass blocks: a learnable
score token joins the patch tokens; the head-mean attention of the score token
to every patch token rates the tokens; the best-rated ones go through attention
and MLP, the rest are merged into one score-weighted representative token whose
update is added back to each of them ("fast update"); the tokens are then put
back in their grid order, so the next block's DPE convolution sees the full map.
In video the same selection runs over all ``T*H*W`` tokens of a clip.

Token scores travel through the blocks as an explicit tensor ``(B, N)`` (no
module-level state).
"""
from fractions import Fraction
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...registry import MODELS
from ...validation import check_bool
from ..layers import (ConvEmbed, GlobalBlockBase, LayerScale, PatchEmbed, embed_stride,
                      map_to_tokens, tokens_to_map)
from .base import UniFormerBase

# Architecture table of the official light models (conv stem at stage 1 only).
ARCH_ZOO_LIGHT: Dict[str, dict] = {
    'xxs': dict(depths=(2, 5, 8, 2), embed_dims=(56, 112, 224, 448), head_dim=28, mlp_ratio=3.),
    'xs': dict(depths=(3, 5, 9, 3), embed_dims=(64, 128, 256, 512), head_dim=32, mlp_ratio=3.),
}
ARCH_DEFAULTS_LIGHT = dict(mlp_ratio=3., layer_scale_stages=())


def kept_count(n: Union[int, torch.Tensor], keep_ratio: float) -> Union[int, torch.Tensor]:
    """``int(n * keep_ratio)``: the tokens a shrinking block keeps of ``n``.

    Under ``torch.jit.trace`` (ONNX export) ``n`` is the traced token count, a 0-dim int64
    tensor: the count is then the integer graph value ``n * p // q`` with ``p / q`` the
    ratio as a small fraction (checked equal to ``int(n * keep_ratio)`` for every
    ``n < 2**16``), so the exported graph keeps its height, width and frames dynamic.
    """
    if not isinstance(n, torch.Tensor):
        return int(n * keep_ratio)
    frac = Fraction(keep_ratio).limit_denominator(1 << 10)
    p, q = frac.numerator, frac.denominator
    counts = torch.arange(1 << 16, dtype=torch.float64)
    if not torch.equal((counts * keep_ratio).long(), counts.long() * p // q):
        raise ValueError(f'keep_ratio {keep_ratio!r} is not exported: int(N * keep_ratio) is '
                         f'not N * {p} // {q} for every N < 2**16')
    return n * p // q


def rank_order(scores: torch.Tensor) -> torch.Tensor:
    """Token indices ``(B, N)`` by descending score ``(B, N)``, equal scores by position.

    Eagerly a stable sort. Under ``torch.jit.trace`` (ONNX export) the rank of each token
    is counted (``#{better} + #{equal and earlier}``, ``(B, N, N)`` comparisons), and the
    tokens are ordered by these distinct ranks: OpenVINO's CPU ``TopK`` (2026.4) breaks ties
    in its own order, not by the lower index as the ONNX ``TopK`` specifies, so a sort of
    equal scores (an untrained score token, flat image regions) kept other tokens there.
    """
    if not torch.jit.is_tracing():
        return torch.argsort(scores, dim=1, descending=True, stable=True)
    pos = torch.ones_like(scores).cumsum(1)  # (B, N): 1..N
    mine, other = scores.unsqueeze(2), scores.unsqueeze(1)  # (B, N, 1), (B, 1, N)
    ahead = (other > mine) | ((other == mine) & (pos.unsqueeze(1) < pos.unsqueeze(2)))
    rank = ahead.float().sum(2)  # (B, N): distinct 0..N-1 (exact in float32 below 2**24)
    return torch.argsort(rank, dim=1)


def check_keep_trade(keep_ratio: float, trade_off: float) -> None:
    """``keep_ratio`` in (0, 1] and ``trade_off`` in [0, 1]."""
    if isinstance(keep_ratio, bool) or not isinstance(keep_ratio, (int, float)) or \
            not 0 < keep_ratio <= 1:
        raise ValueError(f'keep_ratio must be in (0, 1], got {keep_ratio!r}')
    if isinstance(trade_off, bool) or not isinstance(trade_off, (int, float)) or \
            not 0 <= trade_off <= 1:
        raise ValueError(f'trade_off must be in [0, 1], got {trade_off!r}')


class HourglassBlock(GlobalBlockBase):
    """Hourglass global block ("EvoSABlock") on a map ``(B, C, *S)`` plus a score token.

    Built on the parts of a global block (:class:`~mmuniformer.models.layers.GlobalBlockBase`:
    DPE, LN + MHSA, LN + MLP, same module names) with its own ``forward`` signature.

    ``keep_ratio == 1``: the score token and all patch tokens go through attention
    and MLP, as a global block. ``keep_ratio < 1``: the ``int(N * keep_ratio)``
    best-scored tokens are kept, the others merged into one token (weights
    ``score / sum(score)``); kept + merged tokens and the score token go through
    attention and MLP; the sum of the merged token's two branch outputs (the
    "fast update") is added to every merged token, and tokens are returned in grid
    order. ``S`` is ``(H, W)`` or ``(T, H, W)``; tokens are ranked over all of ``S``.

    The token scores are the score token's head-mean attention to the patch tokens
    (:class:`Attention` ``return_first_row``), blended as
    ``(1 - trade_off) * old + trade_off * new`` for the tokens that took part
    (all of them when ``keep_ratio == 1``; the kept ones otherwise, and also the
    merged one when it is a single token).

    Args:
        dim: channels.
        num_heads: attention heads.
        keep_ratio: fraction of tokens kept, in ``(0, 1]``.
        trade_off: weight of the new scores in the running mean.
        ndim: 2 (images) or 3 (video).
        separate_fast_scale: with layer scale, True gives the fast update its own
            scale ``ls3`` (the official image models' ``gamma_3``); False adds the
            branch outputs already scaled by ``ls1``/``ls2`` (the official video
            models, which have no ``gamma_3``).
        Others as :class:`~mmuniformer.models.layers.GlobalBlockBase`.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 keep_ratio: float = 0.5,
                 trade_off: float = 0.5,
                 separate_fast_scale: bool = True,
                 **kwargs: Any) -> None:
        kwargs.setdefault('mlp_ratio', 3.)
        check_keep_trade(keep_ratio, trade_off)
        check_bool(separate_fast_scale=separate_fast_scale)
        super().__init__(dim, num_heads, **kwargs)
        self.keep_ratio = keep_ratio
        self.trade_off = trade_off
        self.separate_fast_scale = separate_fast_scale
        layer_scale = kwargs.get('layer_scale')
        self.ls3 = (LayerScale(dim, layer_scale, True)
                    if layer_scale is not None and keep_ratio < 1 and separate_fast_scale
                    else nn.Identity())

    def freeze_inference(self, dtype: torch.dtype) -> None:
        """Prepare an inference-only model in ``dtype``: in bf16/fp16 the attention runs in
        float32 (as ``attn_fp32``), because the token selection ranks its scores and rounded
        scores of near-equal tokens swap ranks (measured on XS: output cosine to float32 0.986
        with bf16 attention, 0.9991 with float32 attention, at the same speed)."""
        if dtype != torch.float32:
            self.attn.fp32 = True

    def _blend(self, old: Optional[torch.Tensor], new: torch.Tensor) -> torch.Tensor:
        """Scores are kept in float32 (ranked, pooled) whatever the model's dtype."""
        new = new.float()
        if old is None:
            return new
        return (1 - self.trade_off) * old + self.trade_off * new

    def forward(self, x: torch.Tensor, score_token: torch.Tensor, scores: Optional[torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` ``(B, C, *S)``, ``score_token`` ``(B, 1, C)``, ``scores`` ``(B, prod(S))``
        or None (first block) -> the same three, updated."""
        x = self.add_position(x)
        size = x.shape[2:]
        tokens = map_to_tokens(x)
        if self.keep_ratio >= 1:
            seq = torch.cat([score_token, tokens], dim=1)
            out, row = self.attn(self.norm1(seq), return_first_row=True)
            seq = self.add_mlp(seq + self.drop_path(self.ls1(out)))
            # the slice without the score token, copied to a channels-last map for the next block
            return (tokens_to_map(seq[:, 1:].contiguous(), size), seq[:, :1],
                    self._blend(scores, row))
        if scores is None:
            raise ValueError('a shrinking hourglass block needs the token scores of an earlier '
                             'block (the first stage-3 block must keep all tokens)')
        b, n, c = tokens.shape  # traced values under torch.jit.trace: the export stays dynamic
        n_keep = kept_count(n, self.keep_ratio)
        order = rank_order(scores)  # (B, N), best first, equal scores by position
        # one gather puts the tokens in rank order; kept and dropped are views of it
        index = order.unsqueeze(-1).expand(-1, -1, c)
        ranked = tokens.gather(1, index)  # (B, N, C)
        dropped = ranked[:, n_keep:]  # (B, N - n_keep, C)
        drop_scores = scores.gather(1, order[:, n_keep:])
        weight = drop_scores / drop_scores.sum(dim=1, keepdim=True)
        merged = torch.bmm(weight.unsqueeze(1).to(dropped.dtype), dropped)  # (B, 1, C)
        seq = torch.cat([score_token, ranked[:, :n_keep], merged], dim=1)

        raw, row = self.attn(self.norm1(seq), return_first_row=True)  # row: (B, n_keep + 1)
        out = self.ls1(raw)
        fast = (raw if self.separate_fast_scale else out)[:, -1:]
        seq = seq + self.drop_path(out)
        raw = self.mlp(self.norm2(seq))
        out = self.ls2(raw)
        fast = fast + (raw if self.separate_fast_scale else out)[:, -1:]
        seq = seq + self.drop_path(out)

        # Scores of the tokens that joined the attention; a single merged token is itself
        # (then all n are seen). A count, not a branch, so that a traced graph keeps both cases.
        n_seen = n_keep + (n - n_keep == 1)
        seen_idx, row = order[:, :n_seen], row[:, :n_seen]
        scores = scores.scatter(1, seen_idx, self._blend(scores.gather(1, seen_idx), row))
        # back to grid order: kept tokens from the sequence, dropped ones plus the fast update;
        # every grid position is written once (``order`` is a permutation), so no zero fill
        ranked = torch.cat([seq[:, 1:-1], dropped + self.ls3(fast)], dim=1)
        tokens = ranked.new_empty(b, n, c).scatter_(1, index, ranked)  # dtype may differ under autocast
        return tokens_to_map(tokens, size), seq[:, :1], scores


def pool_scores(scores: torch.Tensor, size: Sequence[int],
                kernel: Optional[Sequence[int]] = None) -> torch.Tensor:
    """Average-pool token scores ``(B, prod(size))`` of an ``(H, W)`` or ``(T, H, W)``
    grid with ``kernel`` (= stride; default 2 on ``H, W`` and 1 on ``T``, matching the
    stage-4 embedding) to ``(B, prod(size // kernel))``, rescaled to keep each row's sum."""
    if len(size) not in (2, 3):
        raise ValueError(f'pool_scores takes an (H, W) or (T, H, W) grid, got {tuple(size)}')
    kernel = (1, ) * (len(size) - 2) + (2, 2) if kernel is None else tuple(kernel)
    if len(kernel) != len(size):
        raise ValueError(f'pool kernel {kernel} does not match the grid {tuple(size)}')
    b = scores.shape[0]
    pool = F.avg_pool2d if len(size) == 2 else F.avg_pool3d
    pooled = pool(scores.reshape(b, 1, *size), kernel, kernel).reshape(b, -1)
    return pooled * (scores.sum(dim=1, keepdim=True) / pooled.sum(dim=1, keepdim=True))


@MODELS.register_module()
class UniFormerLight(UniFormerBase):
    """Lightweight hourglass UniFormer (H-UniFormer XXS / XS, TPAMI 2023) backbone,
    images or video.

    Video (``ndim=3``) follows the official light video model: stem
    ``Conv3d 3x3x3 s(1,2,2) -> BN -> GELU -> Conv3d 3x3x3 s(temporal_stride,2,2) -> BN``,
    later embeds ``(1, 2, 2)`` conv + LayerNorm, 3-D local/hourglass blocks, token
    selection over all ``T*H*W`` tokens, scores pooled ``(1, 2, 2)`` entering stage 4,
    BatchNorm3d on the last stage.

    Args:
        arch: ``'xxs'``, ``'xs'`` or a dict with ``depths``, ``embed_dims``,
            ``head_dim`` and optionally ``mlp_ratio`` (3), ``layer_scale_stages``.
        out_score_token: also return the score token after ``norm_cls`` (a
            LayerNorm), shape ``(B, C_4)``, as the last output (for the training
            loss of :class:`UniFormerLightClsHead`); not with ``out_tuple=False``.
        keep_ratio: fraction of tokens kept by every stage-3/4 block but the first
            stage-3 block, which keeps all (official 0.5).
        trade_off: running-mean weight of new token scores (official 0.5; the first
            stage-3 block sets the scores).
        **kwargs: the contract arguments of :class:`UniFormerBase` (``in_channels``,
            ``ndim``, ``out_indices``, ``out_norm``, drop rates, ``frozen_stages`` (the
            score token belongs to stage 2, ``cls_upsample`` to stage 3), ``norm_eval``,
            ``with_cp``, ``use_sdpa``, ``attn_fp32`` (the official
            ``Uniformer_light_fp32`` video models), ``temporal_stride`` (the stem's second
            conv), ``inflate``, ``out_tuple``, ``init_cfg``).
    """

    min_size_hint = 'H, W >= 29'
    arch_zoo = ARCH_ZOO_LIGHT
    arch_defaults = ARCH_DEFAULTS_LIGHT
    min_depths = (0, 0, 1, 1)

    def __init__(self,
                 arch: Union[str, dict] = 'xxs',
                 out_score_token: bool = False,
                 keep_ratio: float = 0.5,
                 trade_off: float = 0.5,
                 **kwargs: Any) -> None:
        super().__init__(arch, video_options={}, **kwargs)
        arch, ndim = self.arch, self.ndim
        check_keep_trade(keep_ratio, trade_off)
        check_bool(out_score_token=out_score_token)
        if not self.out_tuple and out_score_token:
            raise ValueError('out_tuple=False returns one tensor: it needs out_score_token=False')
        self.out_score_token = out_score_token
        self.keep_ratio, self.trade_off = keep_ratio, trade_off
        dims = arch['embed_dims']

        stem_strides = [2, 2] if ndim == 2 else [(1, 2, 2), (self.temporal_stride, 2, 2)]
        self.patch_embed1 = ConvEmbed(self.in_channels, dims[0], stem_strides, ndim)
        embed_kernel = 2 if ndim == 2 else (1, 2, 2)
        for i in range(1, 4):
            self.add_module(f'patch_embed{i + 1}',
                            PatchEmbed(dims[i - 1], dims[i], embed_kernel, ndim=ndim))
        # token scores are pooled like the stage-4 embedding entering stage 4
        self.score_pool = embed_stride(self.patch_embed4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims[2]))
        self.cls_upsample = nn.Linear(dims[2], dims[3])
        self.pos_drop = nn.Dropout(self.drop_rate)
        self._build_stages()
        self._build_out_norms()
        if out_score_token:
            self.norm_cls = nn.LayerNorm(dims[-1])  # torch default eps, as the official model
        self._freeze_stages()

    def _global_block(self, stage: int, index: int, dim: int, common: dict) -> nn.Module:
        """An hourglass block; the first of stage 3 keeps all tokens and sets the scores."""
        first = stage == 2 and index == 0
        return HourglassBlock(
            dim, dim // self.arch['head_dim'], keep_ratio=1. if first else self.keep_ratio,
            trade_off=1. if first else self.trade_off, separate_fast_scale=self.ndim == 2,
            **common)

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """``(B, C, H, W)`` or ``(B, C, T, H, W)`` -> the maps of ``out_indices``, each
        ``(B, C_i, H / 4 / 2^i, W / 4 / 2^i)`` (video: ``(B, C_i, T', ...)`` with
        ``T' = ceil(T / temporal_stride)``), then (with ``out_score_token``) the
        normalised score token ``(B, C_4)``; a single tensor if not ``out_tuple``."""
        self._check_input(x)
        outs = []
        x = self._channels_last(self.pos_drop(self.patch_embed1(x)))
        score_token = scores = None
        stage3_size: Tuple[int, ...] = ()
        for i in range(4):
            if i:
                x = getattr(self, f'patch_embed{i + 1}')(x)
            if i == 2:
                score_token = self.cls_token.expand(x.shape[0], -1, -1)
            elif i == 3:
                score_token = self.cls_upsample(score_token)
                scores = pool_scores(scores, stage3_size, self.score_pool)
            for block in getattr(self, f'blocks{i + 1}'):
                if i < 2:
                    x = self._run(block, x)
                else:
                    x, score_token, scores = self._run(block, x, score_token, scores)
            if i == 2:
                stage3_size = tuple(x.shape[2:])
            if i in self.out_indices:
                outs.append(self._out(i, x))
        if self.out_score_token:
            outs.append(self.norm_cls(score_token[:, 0]))
        return tuple(outs) if self.out_tuple else outs[0]

    def _stage_modules(self, i: int) -> List[Union[nn.Module, nn.Parameter]]:
        modules = super()._stage_modules(i)
        if i == 2:
            modules.append(self.cls_token)
        if i == 3:
            modules.append(self.cls_upsample)
            if self.out_score_token:
                modules.append(self.norm_cls)
        return modules

    def _extra_layer_ids(self) -> Dict[str, int]:
        depths = self.arch['depths']
        return {'cls_token': sum(depths[:2]) + 1, 'cls_upsample': sum(depths[:3]) + 1}
