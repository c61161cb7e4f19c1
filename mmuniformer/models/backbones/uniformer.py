"""UniFormer backbone for images ``(B, C, H, W)`` and video ``(B, C, T, H, W)``.

Stages 1-2 are local MHRA blocks, stages 3-4 global MHRA blocks. Stage 3 may use
windowed attention (``window``) or mix windowed and global blocks (``hybrid``)
for dense prediction at high resolution. Video models (``ndim=3``) use 3-D
convolutions and joint spatio-temporal attention, or divided attention
(``split``), and load inflated ImageNet weights.
"""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn

from ...registry import MODELS
from ...validation import check_bool, check_choice, check_positive_int
from ..layers import ConvEmbed, GlobalBlock, PatchEmbed, SplitGlobalBlock
from .base import UniFormerBase

# Architecture table. ``layer_scale_stages``: stages whose blocks carry layer scale.
# The ``*_tl`` entries are the official token-labeling models, whose S/B use head_dim 32.
ARCH_ZOO: Dict[str, dict] = {
    'small': dict(depths=(3, 4, 8, 3), embed_dims=(64, 128, 320, 512), head_dim=64, stem='plain'),
    'small_plus': dict(depths=(3, 5, 9, 3), embed_dims=(64, 128, 320, 512), head_dim=32, stem='conv'),
    'small_plus_dim64': dict(
        depths=(3, 5, 9, 3), embed_dims=(64, 128, 320, 512), head_dim=64, stem='conv'),
    'base': dict(depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=64, stem='plain'),
    'base_ls': dict(
        depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=64, stem='plain',
        layer_scale_stages=(2, 3)),
    'large_ls': dict(
        depths=(5, 10, 24, 7), embed_dims=(128, 192, 448, 640), head_dim=64, stem='plain',
        layer_scale_stages=(0, 1, 2, 3)),
    'small_tl': dict(depths=(3, 4, 8, 3), embed_dims=(64, 128, 320, 512), head_dim=32, stem='plain'),
    'base_tl': dict(depths=(5, 8, 20, 7), embed_dims=(64, 128, 320, 512), head_dim=32, stem='plain'),
}
ARCH_ALIASES = {'s': 'small', 's_plus': 'small_plus', 'b': 'base', 'b_ls': 'base_ls', 'l_ls': 'large_ls'}
ARCH_DEFAULTS = dict(stem='plain', mlp_ratio=4., layer_scale_stages=())
STAGE3_MODES = ('global', 'window', 'hybrid')


@MODELS.register_module()
class UniFormer(UniFormerBase):
    """UniFormer (TPAMI 2023) backbone, 2-D or 3-D.

    Video (``ndim=3``): stage-1 embed conv ``(temporal_kernel, 4, 4)`` with stride
    ``(temporal_stride, 4, 4)``, stages 2-4 ``(1, 2, 2)`` (``std``: ``(3, 2, 2)``),
    3x3x3 DPE, 5x5x5 local MHRA, attention over all ``T*H*W`` tokens (``split``:
    over ``T`` then over ``H*W``), final BatchNorm3d. Features are ``(B, C_i, T', H_i, W_i)``
    with ``T' = T / temporal_stride`` (rounded up). The official video models are
    ``UniFormer('small' | 'base', ndim=3)``; mmaction2 heads need ``out_tuple=False``.

    Args:
        arch: a name of :data:`ARCH_ZOO` or a dict with ``depths``, ``embed_dims``,
            ``head_dim`` and optionally ``stem`` ('plain'/'conv'), ``mlp_ratio``,
            ``layer_scale_stages``.
        stage3_mode: 'global', 'window' (all stage-3 blocks windowed) or 'hybrid'
            (every ``hybrid_global_every``-th stage-3 block global, the rest windowed).
        window_size: stage-3 window side for 'window'/'hybrid'.
        eval_stage3_mode: the stage-3 mode in eval mode (None: ``stage3_mode``). The
            same weights serve both (the blocks have no window-specific parameters):
            the paper trains segmentation with global attention and tests with
            ``window``/``hybrid`` (window 32); each stage-3 block holds both windows and
            uses the one of its mode.
        temporal_kernel: video only, temporal kernel of the stage-1 embed (official 3).
        split: video only, divided space-time attention in stages 3-4
            (:class:`~mmuniformer.models.layers.SplitGlobalBlock`, official ``SPLIT``;
            extra ``t_norm``/``t_attn`` per block, initialised as a zero branch).
        std: video only, plain stem only: stages 2-4 embed with conv ``(3, 2, 2)``,
            stride ``(1, 2, 2)``, padding ``(1, 0, 0)`` (official ``STD``) instead of ``(1, 2, 2)``.
        **kwargs: the contract arguments of :class:`UniFormerBase` (``in_channels``,
            ``ndim``, ``out_indices``, ``out_norm``, drop rates, ``frozen_stages``,
            ``norm_eval``, ``with_cp``, ``use_sdpa``, ``temporal_stride``, ``inflate``,
            ``out_tuple``, ``init_cfg``, ...).
    """

    arch_zoo = ARCH_ZOO
    arch_aliases = ARCH_ALIASES
    arch_defaults = ARCH_DEFAULTS

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 stage3_mode: str = 'global',
                 window_size: int = 14,
                 hybrid_global_every: int = 4,
                 eval_stage3_mode: Optional[str] = None,
                 temporal_kernel: int = 3,
                 split: bool = False,
                 std: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(
            arch, video_options=dict(temporal_kernel=(temporal_kernel, 3), split=(split, False),
                                     std=(std, False)), **kwargs)
        arch, ndim = self.arch, self.ndim
        check_positive_int(hybrid_global_every=hybrid_global_every,
                           temporal_kernel=temporal_kernel)
        check_bool(split=split, std=std)
        eval_stage3_mode = stage3_mode if eval_stage3_mode is None else eval_stage3_mode
        for name, mode in (('stage3_mode', stage3_mode), ('eval_stage3_mode', eval_stage3_mode)):
            check_choice(name, mode, STAGE3_MODES)
            if mode == 'global':
                continue
            if ndim != 2:
                raise ValueError(f'{name}={mode!r} (windowed attention) is available for images '
                                 f"(ndim=2) only; video models use 'global'")
            if split:
                raise ValueError(f'split=True (divided space-time attention) needs {name}=global')
        if std and arch['stem'] != 'plain':
            raise ValueError(f"std=True changes the plain stem's stage 2-4 embeds; arch stem "
                             f"{arch['stem']!r} already uses 3x3x3 convs there")
        self.stage3_mode, self.eval_stage3_mode = stage3_mode, eval_stage3_mode
        self.window_size, self.hybrid_global_every = window_size, hybrid_global_every
        self.split, self.std = split, std
        self._build_embeds(arch, self.in_channels, ndim, self.temporal_stride, temporal_kernel, std)
        self.pos_drop = nn.Dropout(self.drop_rate)
        self._build_stages()
        self._build_out_norms()
        self._freeze_stages()

    def _global_block(self, stage: int, index: int, dim: int, common: dict) -> nn.Module:
        """A global block (divided space-time with ``split``); in stage 3, with the windows
        of ``stage3_mode`` (training) and ``eval_stage3_mode`` (evaluation)."""
        num_heads = dim // self.arch['head_dim']
        if self.split:
            return SplitGlobalBlock(dim, num_heads, **common)
        if stage != 2:
            return GlobalBlock(dim, num_heads, **common)
        return GlobalBlock(dim, num_heads, window_size=self.stage3_windows(self.stage3_mode)[index],
                           eval_window_size=self.stage3_windows(self.eval_stage3_mode)[index],
                           **common)

    def stage3_windows(self, mode: str) -> List[Optional[int]]:
        """Window side of each stage-3 block in ``mode`` (None: global attention);
        ``hybrid`` makes every ``hybrid_global_every``-th block global."""
        windows = []
        for j in range(self.arch['depths'][2]):
            windowed = mode == 'window' or (mode == 'hybrid' and (j + 1) % self.hybrid_global_every)
            windows.append(self.window_size if windowed else None)
        return windows

    def _build_embeds(self, arch: dict, in_channels: int, ndim: int, t_stride: int,
                      t_kernel: int, std: bool = False) -> None:
        dims = arch['embed_dims']
        cins = (in_channels, ) + tuple(dims[:3])
        for i in range(4):
            if arch['stem'] == 'conv':
                if i == 0:
                    strides = [2, 2] if ndim == 2 else [(1, 2, 2), (t_stride, 2, 2)]
                else:
                    strides = [2] if ndim == 2 else [(1, 2, 2)]
                embed = ConvEmbed(cins[i], dims[i], strides, ndim)
            elif ndim == 2:
                embed = PatchEmbed(cins[i], dims[i], 4 if i == 0 else 2, ndim=2)
            elif i == 0:
                embed = PatchEmbed(cins[i], dims[i], (t_kernel, 4, 4), (t_stride, 4, 4),
                                   (t_kernel // 2, 0, 0), ndim=3)
            elif std:
                embed = PatchEmbed(cins[i], dims[i], (3, 2, 2), (1, 2, 2), (1, 0, 0), ndim=3)
            else:
                embed = PatchEmbed(cins[i], dims[i], (1, 2, 2), ndim=3)
            self.add_module(f'patch_embed{i + 1}', embed)

    def _post_init_weights(self) -> None:
        """Re-apply the split blocks' temporal-attention init after the generic one."""
        for module in self.modules():
            if isinstance(module, SplitGlobalBlock):
                module.init_temporal_weights()

    def forward_stage(self, i: int, x: torch.Tensor,
                      mix_box: Optional[Tuple[int, int, int, int]] = None) -> torch.Tensor:
        """Embed and run stage ``i`` (0-3): ``(B, C_{i-1}, *S) -> (B, C_i, *S_i)``.

        ``mix_box`` ``(y1, x1, y2, x2)`` on stage ``i``'s token grid: the embedded tokens
        inside it are replaced by those of the batch-flipped sample (MixToken).
        """
        x = getattr(self, f'patch_embed{i + 1}')(x)
        if mix_box is not None:
            y1, x1, y2, x2 = mix_box
            x = x.clone()
            x[..., y1:y2, x1:x2] = x.flip(0)[..., y1:y2, x1:x2]
        if i == 0:
            x = self._channels_last(self.pos_drop(x))
        for block in getattr(self, f'blocks{i + 1}'):
            x = self._run(block, x)
        return x

    def forward(self, x: torch.Tensor,
                mix_box: Optional[Tuple[int, int, int, int]] = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Return the features of ``out_indices``, each ``(B, C_i, *S / stride_i)``.

        ``mix_box`` (images only): a MixToken box ``(y1, x1, y2, x2)`` on the stage-1
        token grid (stride 4); tokens inside it are swapped with those of the
        batch-flipped sample right after the stage-1 embedding.
        """
        self._check_input(x)
        if mix_box is not None and self.ndim != 2:
            raise ValueError('mix_box (MixToken) is available for images (ndim=2) only')
        outs = []
        for i in range(4):
            x = self.forward_stage(i, x, mix_box if i == 0 else None)
            if i in self.out_indices:
                outs.append(self._out(i, x))
        return tuple(outs) if self.out_tuple else outs[0]
