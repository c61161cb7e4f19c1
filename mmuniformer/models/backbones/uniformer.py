"""UniFormer backbone for images ``(B, C, H, W)`` and video ``(B, C, T, H, W)``.

Stages 1-2 are local MHRA blocks, stages 3-4 global MHRA blocks. Stage 3 may use
windowed attention (``window``) or mix windowed and global blocks (``hybrid``)
for dense prediction at high resolution. Video models (``ndim=3``) use 3-D
convolutions and joint spatio-temporal attention, or divided attention
(``split``), and load inflated ImageNet weights.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule, initialize
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import MODELS
from ..layers import (ConvEmbed, GlobalBlock, LocalBlock, PatchEmbed, SplitGlobalBlock, bn_nd,
                      channels_last_norm)

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
_ARCH_KEYS = {'depths', 'embed_dims', 'head_dim', 'stem', 'mlp_ratio', 'layer_scale_stages'}
# The official initialisation: truncated normal Linear weights, unit LayerNorms.
DEFAULT_INIT = [
    dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
]
STAGE3_MODES = ('global', 'window', 'hybrid')
OUT_NORMS = ('bn', 'ln', None)


def resolve_arch(arch: Union[str, dict]) -> dict:
    """Return a full arch dict for a zoo name or a user dict, with clear errors."""
    if isinstance(arch, str):
        name = ARCH_ALIASES.get(arch.lower(), arch.lower())
        if name not in ARCH_ZOO:
            raise ValueError(f'unknown UniFormer arch {arch!r}; choose one of '
                             f'{sorted(ARCH_ZOO)} (aliases {sorted(ARCH_ALIASES)}) or pass a dict')
        arch = ARCH_ZOO[name]
    if not isinstance(arch, dict):
        raise TypeError(f'arch must be a str or dict, got {type(arch).__name__}')
    unknown = set(arch) - _ARCH_KEYS
    missing = {'depths', 'embed_dims', 'head_dim'} - set(arch)
    if unknown or missing:
        raise ValueError(f'arch dict has unknown keys {sorted(unknown)} / lacks {sorted(missing)}; '
                         f'accepted keys: {sorted(_ARCH_KEYS)}')
    arch = dict(dict(stem='plain', mlp_ratio=4., layer_scale_stages=()), **copy.deepcopy(arch))
    if len(arch['depths']) != 4 or len(arch['embed_dims']) != 4:
        raise ValueError('arch depths and embed_dims need 4 entries (one per stage)')
    if arch['stem'] not in ('plain', 'conv'):
        raise ValueError(f"arch stem must be 'plain' or 'conv', got {arch['stem']!r}")
    for dim in arch['embed_dims'][2:]:
        if dim % arch['head_dim']:
            raise ValueError(f"embed dim {dim} is not divisible by head_dim {arch['head_dim']}")
    return arch


@MODELS.register_module()
class UniFormer(BaseModule):
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
        in_channels: input channels.
        ndim: 2 for images ``(B, C, H, W)``, 3 for video ``(B, C, T, H, W)``.
        out_indices: stages (0-3) whose outputs are returned.
        out_norm: ``'bn'``: the official classification BatchNorm ``norm`` on the
            last stage's output; ``'ln'``: a LayerNorm ``norm{i+1}`` on each returned
            stage (dense-task models); None: no output norm.
        stage3_mode: 'global', 'window' (all stage-3 blocks windowed) or 'hybrid'
            (every ``hybrid_global_every``-th stage-3 block global, the rest windowed).
        window_size: stage-3 window side for 'window'/'hybrid'.
        drop_rate / attn_drop_rate / drop_path_rate: dropout, attention dropout and
            the maximum stochastic-depth rate (linearly increasing over blocks).
        layer_scale_init: initial value of the layer-scale parameters.
        frozen_stages: stages ``0..frozen_stages`` are frozen (-1: none).
        norm_eval: keep BatchNorms in eval mode while training.
        with_cp: gradient checkpointing per block.
        use_sdpa: attention through ``F.scaled_dot_product_attention``.
        temporal_stride / temporal_kernel: video only, the stage-1 embed's temporal
            stride and kernel (official: 2 and 3).
        inflate: video only, how ``Pretrained`` 2-D (ImageNet) kernels become 3-D:
            ``'average'`` repeats the 2-D kernel over the ``k_t`` time taps and divides
            by ``k_t`` (official), ``'center'`` puts it in the middle tap, zeros elsewhere
            (mmaction2). 3-D checkpoints load as they are.
        split: video only, divided space-time attention in stages 3-4
            (:class:`~mmuniformer.models.layers.SplitGlobalBlock`, official ``SPLIT``;
            extra ``t_norm``/``t_attn`` per block, initialised as a zero branch).
        std: video only, plain stem only: stages 2-4 embed with conv ``(3, 2, 2)``,
            stride ``(1, 2, 2)``, padding ``(1, 0, 0)`` (official ``STD``) instead of ``(1, 2, 2)``.
        out_tuple: return a tuple of features (mmpretrain/mmdet/mmseg/mmpose); False
            returns the single feature of a one-element ``out_indices`` as a tensor
            (mmaction2's heads).
        init_cfg: mmengine init config. ``Pretrained`` accepts official checkpoints
            (see :func:`mmuniformer.checkpoint.load_uniformer_checkpoint`).
    """

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 ndim: int = 2,
                 out_indices: Sequence[int] = (3, ),
                 out_norm: Optional[str] = 'bn',
                 stage3_mode: str = 'global',
                 window_size: int = 14,
                 hybrid_global_every: int = 4,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 layer_scale_init: float = 1e-6,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 use_sdpa: bool = True,
                 temporal_stride: int = 2,
                 temporal_kernel: int = 3,
                 inflate: str = 'average',
                 split: bool = False,
                 std: bool = False,
                 out_tuple: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=copy.deepcopy(DEFAULT_INIT) if init_cfg is None else init_cfg)
        self.arch = arch = resolve_arch(arch)
        if ndim not in (2, 3):
            raise ValueError(f'ndim must be 2 (images) or 3 (video), got {ndim}')
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        out_indices = tuple(i + 4 if i < 0 else i for i in out_indices)
        if not out_indices or any(i not in range(4) for i in out_indices):
            raise ValueError(f'out_indices must be stage indices in 0..3, got {out_indices}')
        if out_norm not in OUT_NORMS:
            raise ValueError(f'out_norm must be one of {OUT_NORMS}, got {out_norm!r}')
        if stage3_mode not in STAGE3_MODES:
            raise ValueError(f'stage3_mode must be one of {STAGE3_MODES}, got {stage3_mode!r}')
        if stage3_mode != 'global' and (not isinstance(window_size, int) or window_size < 1):
            raise ValueError(f'window_size must be a positive int for stage3_mode={stage3_mode!r}, '
                             f'got {window_size!r}')
        if stage3_mode != 'global' and ndim != 2:
            raise ValueError('window/hybrid stage-3 attention is available for 2-D inputs only')
        if frozen_stages not in range(-1, 4):
            raise ValueError(f'frozen_stages must be in -1..3, got {frozen_stages}')
        if inflate not in ('average', 'center'):
            raise ValueError(f"inflate must be 'average' or 'center', got {inflate!r}")
        for name, flag in (('split', split), ('std', std)):
            if flag and ndim != 3:
                raise ValueError(f'{name}=True is a video option: it needs ndim=3 (got ndim={ndim})')
        if std and arch['stem'] != 'plain':
            raise ValueError(f"std=True changes the plain stem's stage 2-4 embeds; arch stem "
                             f"{arch['stem']!r} already uses 3x3x3 convs there")
        self.in_channels = in_channels
        self.ndim = ndim
        self.out_indices = out_indices
        self.out_norm = out_norm
        self.stage3_mode = stage3_mode
        self.window_size = window_size
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.inflate = inflate
        self.split = split
        self.std = std
        if not out_tuple and len(out_indices) != 1:
            raise ValueError(f'out_tuple=False needs exactly one out index, got {out_indices}')
        self.out_tuple = out_tuple
        depths, dims = arch['depths'], arch['embed_dims']
        self.embed_dims = tuple(dims)
        self.num_features = dims[-1]

        self._build_embeds(arch, in_channels, ndim, temporal_stride, temporal_kernel, std)
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        start = 0
        for i, (depth, dim) in enumerate(zip(depths, dims)):
            ls = layer_scale_init if i in arch['layer_scale_stages'] else None
            blocks = []
            for j in range(depth):
                common = dict(mlp_ratio=arch['mlp_ratio'], drop=drop_rate, drop_path=dpr[start + j],
                              layer_scale=ls, ndim=ndim)
                if i < 2:
                    blocks.append(LocalBlock(dim, **common))
                    continue
                window = None
                if i == 2 and (stage3_mode == 'window' or
                               (stage3_mode == 'hybrid' and (j + 1) % hybrid_global_every)):
                    window = window_size
                if split:
                    blocks.append(SplitGlobalBlock(
                        dim, dim // arch['head_dim'], attn_drop=attn_drop_rate, use_sdpa=use_sdpa,
                        **common))
                    continue
                blocks.append(GlobalBlock(
                    dim, dim // arch['head_dim'], attn_drop=attn_drop_rate, window_size=window,
                    use_sdpa=use_sdpa, **common))
            start += depth
            self.add_module(f'blocks{i + 1}', nn.ModuleList(blocks))
        if out_norm == 'bn':
            self.norm = bn_nd(ndim)(dims[-1])
        elif out_norm == 'ln':
            for i in out_indices:
                self.add_module(f'norm{i + 1}', nn.LayerNorm(dims[i], eps=1e-6))
        self._freeze_stages()

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

    def init_weights(self) -> None:
        """Initialise, or load a ``Pretrained`` checkpoint (official layouts accepted)."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            from ...checkpoint import load_uniformer_checkpoint
            initialize(self, copy.deepcopy(DEFAULT_INIT))  # for keys the checkpoint lacks
            self._init_temporal_attention()
            load_uniformer_checkpoint(self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                                      map_location=cfg.get('map_location', 'cpu'))
            self._is_init = True
            return
        first_call = not self._is_init
        super().init_weights()
        if first_call:
            self._init_temporal_attention()

    def _init_temporal_attention(self) -> None:
        """Re-apply the split blocks' temporal-attention init after the generic one."""
        for module in self.modules():
            if isinstance(module, SplitGlobalBlock):
                module.init_temporal_weights()

    def _check_input(self, x: torch.Tensor) -> None:
        layout = '(B, C, H, W)' if self.ndim == 2 else '(B, C, T, H, W)'
        if x.dim() != self.ndim + 2:
            raise ValueError(f'UniFormer ({self.ndim}-D) expects input {layout}, got shape '
                             f'{tuple(x.shape)}' + (' (set ndim=3 for video)' if x.dim() == 5 else ''))
        if x.shape[1] != self.in_channels:
            raise ValueError(f'UniFormer was built for {self.in_channels} input channels, got '
                             f'{x.shape[1]} (input shape {tuple(x.shape)}, layout {layout})')
        size = list(x.shape[2:])
        for i in range(4):
            for conv in (m for m in getattr(self, f'patch_embed{i + 1}').modules()
                         if isinstance(m, (nn.Conv2d, nn.Conv3d))):
                size = [(s + 2 * p - k) // st + 1
                        for s, p, k, st in zip(size, conv.padding, conv.kernel_size, conv.stride)]
            if min(size) < 1:
                dims = 'H, W' if self.ndim == 2 else 'T, H, W'
                raise ValueError(f'input {tuple(x.shape)} is too small: stage {i + 1} would have an '
                                 f'empty feature map ({dims} = {tuple(size)}); the plain models '
                                 f'need H, W >= 32 (and T >= 1 for video)')

    def _run(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(block, x, use_reentrant=False)
        return block(x)

    def forward_stage(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Embed and run stage ``i`` (0-3): ``(B, C_{i-1}, *S) -> (B, C_i, *S_i)``."""
        x = getattr(self, f'patch_embed{i + 1}')(x)
        if i == 0:
            x = self.pos_drop(x)
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
        outs = []
        for i in range(4):
            if i == 0 and mix_box is not None:
                x = self.patch_embed1(x)
                y1, x1, y2, x2 = mix_box
                x = x.clone()
                x[..., y1:y2, x1:x2] = x.flip(0)[..., y1:y2, x1:x2]
                x = self.pos_drop(x)
                for block in self.blocks1:
                    x = self._run(block, x)
            else:
                x = self.forward_stage(i, x)
            if i in self.out_indices:
                outs.append(self._out(i, x))
        return tuple(outs) if self.out_tuple else outs[0]

    def _out(self, i: int, x: torch.Tensor) -> torch.Tensor:
        if self.out_norm == 'bn':
            return self.norm(x) if i == 3 else x
        if self.out_norm == 'ln':
            return channels_last_norm(getattr(self, f'norm{i + 1}'), x)
        return x

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages + 1):
            modules = [getattr(self, f'patch_embed{i + 1}'), getattr(self, f'blocks{i + 1}')]
            if self.out_norm == 'ln' and i in self.out_indices:
                modules.append(getattr(self, f'norm{i + 1}'))
            if i == 3 and self.out_norm == 'bn':
                modules.append(self.norm)
            for module in modules:
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'UniFormer':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id of a parameter for layer-wise learning-rate decay (mmpretrain API)."""
        num_layers = sum(self.arch['depths']) + 2
        name = param_name[len(prefix):] if param_name.startswith(prefix) else param_name
        head = name.split('.')[0]
        if head.startswith('patch_embed'):
            stage = int(head[len('patch_embed'):]) - 1
            return sum(self.arch['depths'][:stage]) + (0 if stage == 0 else 1), num_layers
        if head.startswith('blocks'):
            stage = int(head[len('blocks'):]) - 1
            return sum(self.arch['depths'][:stage]) + int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers
