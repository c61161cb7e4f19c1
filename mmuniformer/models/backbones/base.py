"""The backbone contract shared by :class:`UniFormer` and :class:`UniFormerLight`.

Both have ``patch_embed{1..4}``, ``blocks{1..4}`` and output norms (``norm`` or
``norm{i}``); this base class owns argument checks, input checks, output norms,
freezing, ``norm_eval``, gradient checkpointing, ``Pretrained`` loading and the
layer ids used for layer-wise learning-rate decay.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule, initialize
from torch.nn.modules.batchnorm import _BatchNorm

from ...checkpoint import BackboneLayout
from ...validation import (check_bool, check_choice, check_positive,
                           check_positive_int, check_rate)
from ..layers import LocalBlock, bn_nd, channels_last_norm
from .pretrained import require_local_checkpoint

# The official initialisation: truncated normal Linear weights, unit LayerNorms.
DEFAULT_INIT = [
    dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
]
OUT_NORMS = ('bn', 'ln', None)
INFLATE_MODES = ('average', 'center')
_REQUIRED_ARCH_KEYS = ('depths', 'embed_dims', 'head_dim')


def resolve_arch(arch: Union[str, dict], zoo: Dict[str, dict], defaults: dict, model: str,
                 aliases: Optional[Dict[str, str]] = None,
                 min_depths: Sequence[int] = (0, 0, 0, 0)) -> Tuple[Optional[str], dict]:
    """Validate ``arch`` (a name of ``zoo``, an alias, or a dict) for the backbone ``model``.

    Returns ``(name, arch)``: the zoo name (None for a user dict) and the full arch dict,
    ``defaults`` filled in. The accepted dict keys are the required ones
    (``depths``, ``embed_dims``, ``head_dim``) plus those of ``defaults``.
    """
    aliases = aliases or {}
    name = None
    if isinstance(arch, str):
        name = aliases.get(arch.lower(), arch.lower())
        if name not in zoo:
            alias_note = f' (aliases {sorted(aliases)})' if aliases else ''
            raise ValueError(f'unknown {model} arch {arch!r}; choose one of {sorted(zoo)}'
                             f'{alias_note} or pass a dict')
        arch = zoo[name]
    if not isinstance(arch, dict):
        raise TypeError(f'{model} arch must be a str or dict, got {type(arch).__name__}')
    accepted = set(_REQUIRED_ARCH_KEYS) | set(defaults)
    unknown, missing = set(arch) - accepted, set(_REQUIRED_ARCH_KEYS) - set(arch)
    if unknown or missing:
        raise ValueError(f'{model} arch dict has unknown keys {sorted(unknown)} / lacks '
                         f'{sorted(missing)}; accepted keys: {sorted(accepted)}')
    arch = dict(copy.deepcopy(defaults), **copy.deepcopy(arch))
    if len(arch['depths']) != 4 or len(arch['embed_dims']) != 4:
        raise ValueError(f'{model} arch depths and embed_dims need 4 entries (one per stage), got '
                         f"{tuple(arch['depths'])} and {tuple(arch['embed_dims'])}")
    if any(d < m for d, m in zip(arch['depths'], min_depths)):
        raise ValueError(f"{model} arch depths {tuple(arch['depths'])} must be at least "
                         f'{tuple(min_depths)} per stage')
    if 'stem' in arch and arch['stem'] not in ('plain', 'conv'):
        raise ValueError(f"{model} arch stem must be 'plain' or 'conv', got {arch['stem']!r}")
    for i, (depth, dim) in enumerate(zip(arch['depths'], arch['embed_dims'])):
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"{model} arch depths must be ints >= 0, got {tuple(arch['depths'])}")
        check_positive_int(**{f'{model} arch embed_dims[{i}]': dim})
    check_positive_int(**{f'{model} arch head_dim': arch['head_dim']})
    check_positive(**{f'{model} arch mlp_ratio': arch['mlp_ratio']})
    for dim in arch['embed_dims'][2:]:
        if dim % arch['head_dim']:
            raise ValueError(f"{model} embed dim {dim} is not divisible by head_dim "
                             f"{arch['head_dim']}")
    stages = arch['layer_scale_stages']
    if (not isinstance(stages, (list, tuple)) or
            any(isinstance(i, bool) or i not in range(4) for i in stages)):
        raise ValueError(f'{model} arch layer_scale_stages must be stage indices in 0..3, '
                         f'got {stages!r}')
    arch['layer_scale_stages'] = tuple(stages)
    return name, arch


def find_uniformer(model: nn.Module) -> Tuple[str, Optional[nn.Module]]:
    """Name and module of the first UniFormer-like backbone in ``model`` (a module with
    ``patch_embed1`` and ``blocks1``: ours or mmaction2's); ``('', None)`` if there is none."""
    for name, module in model.named_modules():
        if hasattr(module, 'patch_embed1') and hasattr(module, 'blocks1'):
            return name, module
    return '', None


class UniFormerBase(BaseModule):
    """Common contract of the UniFormer backbones (see the subclasses for arguments).

    A subclass names its arch table and defaults in class attributes, calls
    ``super().__init__`` (which resolves and checks ``arch``), builds ``patch_embed{1..4}``,
    calls :meth:`_build_stages` (local blocks, then its :meth:`_global_block` in stages
    3-4) and :meth:`_build_out_norms`.
    """

    #: minimum input size stated in the "too small" error
    min_size_hint = 'H, W >= 32'
    #: the architecture table of the subclass, its aliases, the defaults of optional arch
    #: keys and the least depth of each stage
    arch_zoo: Dict[str, dict] = {}
    arch_aliases: Dict[str, str] = {}
    arch_defaults: Dict[str, object] = {}
    min_depths: Tuple[int, int, int, int] = (0, 0, 0, 0)

    def __init__(self,
                 arch: Union[str, dict],
                 video_options: Dict[str, Tuple[object, object]],
                 in_channels: int = 3,
                 ndim: int = 2,
                 out_indices: Union[int, Sequence[int]] = (3, ),
                 out_norm: Optional[str] = 'bn',
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 layer_scale_init: float = 1e-6,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 use_sdpa: bool = True,
                 attn_fp32: bool = False,
                 temporal_stride: int = 2,
                 inflate: str = 'average',
                 out_tuple: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        """Check and store the contract arguments (the subclasses' ``**kwargs``).

        Args:
            arch: a name of the subclass's ``arch_zoo`` (or an alias) or a dict
                (:func:`resolve_arch`).
            video_options: the subclass's video-only arguments, ``{name: (value, default)}``;
                with ``ndim=2`` a value other than the default has no effect and is refused
                (``temporal_stride`` and ``inflate`` are added here).
            in_channels: input channels.
            ndim: 2 for images ``(B, C, H, W)``, 3 for video ``(B, C, T, H, W)``.
            out_indices: stages (0-3) whose outputs are returned.
            out_norm: ``'bn'``: the official classification BatchNorm ``norm`` on the last
                stage's output; ``'ln'``: a LayerNorm ``norm{i+1}`` on each returned stage
                (det/seg/pose); None: no output norm.
            drop_rate / attn_drop_rate / drop_path_rate: dropout, attention dropout and the
                maximum stochastic-depth rate (linearly increasing over blocks).
            layer_scale_init: initial value of the layer scales of the arch's
                ``layer_scale_stages``.
            frozen_stages: stages ``0..frozen_stages`` are frozen (-1: none), re-applied in
                ``train()``.
            norm_eval: keep BatchNorms in eval mode while training.
            with_cp: gradient checkpointing per block.
            use_sdpa: attention through ``F.scaled_dot_product_attention``.
            attn_fp32: attention in float32 with autocast off (the official ``_fp32``
                light video models).
            temporal_stride: video only, temporal stride of the first embedding (official 2).
            inflate: video only, how ``Pretrained`` 2-D (ImageNet) kernels become 3-D:
                ``'average'`` repeats the kernel over the ``k_t`` taps and divides by ``k_t``
                (official), ``'center'`` puts it in the middle tap (mmaction2).
            out_tuple: return a tuple (mmpretrain/mmdet/mmseg/mmpose); False returns the
                feature of a one-element ``out_indices`` as a tensor (mmaction2 heads).
            init_cfg: mmengine init config; ``Pretrained`` accepts official checkpoints
                (:func:`mmuniformer.checkpoint.load_uniformer_checkpoint`) with ``prefix``
                and ``strict``.
        """
        super().__init__(init_cfg=copy.deepcopy(DEFAULT_INIT) if init_cfg is None else init_cfg)
        name = type(self).__name__
        self.arch_name, self.arch = resolve_arch(arch, self.arch_zoo, self.arch_defaults, name,
                                                 self.arch_aliases, self.min_depths)
        if ndim not in (2, 3) or isinstance(ndim, bool):
            raise ValueError(f'ndim must be 2 (images) or 3 (video), got {ndim!r}')
        check_positive_int(in_channels=in_channels, temporal_stride=temporal_stride)
        check_rate(drop_rate=drop_rate, attn_drop_rate=attn_drop_rate,
                   drop_path_rate=drop_path_rate)
        check_positive(layer_scale_init=layer_scale_init)
        check_bool(norm_eval=norm_eval, with_cp=with_cp, use_sdpa=use_sdpa, attn_fp32=attn_fp32,
                   out_tuple=out_tuple)
        if layer_scale_init != 1e-6 and not self.arch['layer_scale_stages']:
            raise ValueError(f'layer_scale_init={layer_scale_init!r} has no effect: arch '
                             f'{self.arch_name or "dict"} has no layer_scale_stages (set them in '
                             'the arch dict, or leave layer_scale_init at 1e-6)')
        video_options = dict(video_options, temporal_stride=(temporal_stride, 2),
                             inflate=(inflate, 'average'))
        if ndim == 2:
            ignored = {k: v for k, (v, default) in video_options.items() if v != default}
            if ignored:
                raise ValueError(f'{type(self).__name__}: {sorted(ignored)} are video options '
                                 f'that have no effect on images (ndim=2); set ndim=3 or leave '
                                 f'them at their defaults {({k: video_options[k][1] for k in ignored})}')
        if isinstance(out_indices, int) and not isinstance(out_indices, bool):
            out_indices = (out_indices, )
        given = out_indices
        if (not isinstance(out_indices, (list, tuple)) or not out_indices or
                any(isinstance(i, bool) or i not in range(-4, 4) for i in out_indices)):
            raise ValueError(f'out_indices must be stage indices in 0..3 (or -4..-1), got '
                             f'{given!r}')
        out_indices = tuple(i + 4 if i < 0 else i for i in out_indices)
        if len(set(out_indices)) != len(out_indices):
            raise ValueError(f'out_indices must name each stage once, got {given!r}')
        check_choice('out_norm', out_norm, OUT_NORMS)
        if isinstance(frozen_stages, bool) or frozen_stages not in range(-1, 4):
            raise ValueError(f'frozen_stages must be in -1..3, got {frozen_stages!r}')
        if inflate not in INFLATE_MODES:
            raise ValueError(f"inflate must be one of {INFLATE_MODES} ('average' or 'center'), "
                             f'got {inflate!r}')
        if not out_tuple and len(out_indices) != 1:
            raise ValueError(f'out_tuple=False returns one tensor: it needs exactly one out index, '
                             f'got {out_indices}')
        self.embed_dims = tuple(self.arch['embed_dims'])
        self.num_features = self.embed_dims[-1]
        self.in_channels, self.ndim, self.out_indices, self.out_norm = (
            in_channels, ndim, out_indices, out_norm)
        self.drop_rate, self.attn_drop_rate, self.drop_path_rate = (
            drop_rate, attn_drop_rate, drop_path_rate)
        self.layer_scale_init, self.frozen_stages, self.norm_eval, self.with_cp = (
            layer_scale_init, frozen_stages, norm_eval, with_cp)
        self.use_sdpa, self.attn_fp32, self.temporal_stride, self.inflate, self.out_tuple = (
            use_sdpa, attn_fp32, temporal_stride, inflate, out_tuple)

    def checkpoint_layout(self) -> BackboneLayout:
        """What the checkpoint mapping needs to know about this backbone."""
        return BackboneLayout(type(self).__name__, self.arch, self.arch_name, self.arch_zoo,
                              self.ndim, self.inflate)

    def _global_block(self, stage: int, index: int, dim: int, common: dict) -> nn.Module:
        """Block ``index`` of ``stage`` (2 or 3) with ``dim`` channels; ``common``: the
        arguments every block of the stage takes (subclass hook)."""
        raise NotImplementedError

    def _build_stages(self) -> None:
        """Build ``blocks{1..4}``: local blocks in stages 1-2 and :meth:`_global_block` in
        stages 3-4, with stochastic depth growing linearly over all blocks and layer scale
        in the arch's stages."""
        depths = self.arch['depths']
        dpr = torch.linspace(0, self.drop_path_rate, sum(depths)).tolist()
        start = 0
        for i, (depth, dim) in enumerate(zip(depths, self.embed_dims)):
            ls = self.layer_scale_init if i in self.arch['layer_scale_stages'] else None
            blocks = []
            for j in range(depth):
                common = dict(mlp_ratio=self.arch['mlp_ratio'], drop=self.drop_rate,
                              drop_path=dpr[start + j], layer_scale=ls, ndim=self.ndim)
                if i >= 2:
                    common.update(attn_drop=self.attn_drop_rate, use_sdpa=self.use_sdpa,
                                  attn_fp32=self.attn_fp32)
                blocks.append(LocalBlock(dim, **common) if i < 2 else
                              self._global_block(i, j, dim, common))
            start += depth
            self.add_module(f'blocks{i + 1}', nn.ModuleList(blocks))

    def _build_out_norms(self) -> None:
        """``norm`` (BatchNorm on stage 4) or ``norm{i+1}`` (LayerNorm per output)."""
        if self.out_norm == 'bn':
            self.norm = bn_nd(self.ndim)(self.embed_dims[-1])
        elif self.out_norm == 'ln':
            for i in self.out_indices:
                self.add_module(f'norm{i + 1}', nn.LayerNorm(self.embed_dims[i], eps=1e-6))

    def _post_init_weights(self) -> None:
        """Initialisation that must follow the generic one (subclass hook)."""

    def init_weights(self) -> None:
        """Initialise, or load a ``Pretrained`` checkpoint (official layouts accepted;
        2-D checkpoints are inflated for ``ndim=3``)."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            from ...checkpoint import load_uniformer_checkpoint
            initialize(self, copy.deepcopy(DEFAULT_INIT))  # for keys the checkpoint lacks
            self._post_init_weights()
            unknown = set(cfg) - {'type', 'checkpoint', 'prefix', 'map_location', 'strict'}
            if unknown:
                raise ValueError(f'Pretrained init_cfg has unknown keys {sorted(unknown)}; '
                                 "accepted: checkpoint, prefix, map_location, strict")
            require_local_checkpoint(cfg['checkpoint'])
            load_uniformer_checkpoint(self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                                      strict=cfg.get('strict', True),
                                      map_location=cfg.get('map_location', 'cpu'))
            self._is_init = True
            return
        first_call = not self._is_init
        super().init_weights()
        if first_call:
            self._post_init_weights()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Whole-model loads (``load_from``, ``mim test --checkpoint``) refuse a checkpoint
        whose backbone part does not fit (official layout, another task or arch) instead of
        loading it non-strictly (:func:`mmuniformer.checkpoint.check_backbone_state_dict`)."""
        from ...checkpoint import check_backbone_state_dict
        check_backbone_state_dict(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_input(self, x: torch.Tensor) -> None:
        """Raise a clear ``ValueError`` for a wrong rank, channel count or a too-small input."""
        name = type(self).__name__
        kind, layout = ('images', '(B, C, H, W)') if self.ndim == 2 else ('video', '(B, C, T, H, W)')
        if x.dim() != self.ndim + 2:
            hint = {(2, 5): ' (set ndim=3 for video)', (3, 4): ' (set ndim=2 for images)'}
            raise ValueError(f'{name} (ndim={self.ndim}) expects {kind} {layout}, got shape '
                             f'{tuple(x.shape)}' + hint.get((self.ndim, x.dim()), ''))
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{name} was built for {self.in_channels} input channels, got '
                             f'{x.shape[1]} (input shape {tuple(x.shape)}, layout {layout})')
        size = list(x.shape[2:])
        for i in range(4):
            for conv in (m for m in getattr(self, f'patch_embed{i + 1}').modules()
                         if isinstance(m, (nn.Conv2d, nn.Conv3d))):
                size = [(s + 2 * p - k) // st + 1
                        for s, p, k, st in zip(size, conv.padding, conv.kernel_size, conv.stride)]
            if min(size) < 1:
                dims = 'H, W' if self.ndim == 2 else 'T, H, W'
                need = self.min_size_hint + ('' if self.ndim == 2 else ' and T >= 1')
                raise ValueError(f'input {tuple(x.shape)} is too small: stage {i + 1} would have an '
                                 f'empty feature map ({dims} = {tuple(size)}); {name} needs {need}')

    @staticmethod
    def _channels_last(x: torch.Tensor) -> torch.Tensor:
        """``(B, C, *S)`` in channels-last memory (same shape and values).

        The blocks are written for this layout (1x1 convolutions as matmuls without layout
        copies, free views between maps and tokens); the LayerNorm embeddings already
        return it, so this only copies after a BatchNorm conv stem.
        """
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        return x.contiguous(memory_format=fmt)

    def _run(self, block: nn.Module,
             *args: Optional[torch.Tensor]) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Run a block, with gradient checkpointing when ``with_cp`` and training."""
        if self.with_cp and args[0].requires_grad:
            return cp.checkpoint(block, *args, use_reentrant=False)
        return block(*args)

    def _out(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Apply the output norm of stage ``i`` to its map ``(B, C_i, *S_i)`` and return it
        in the standard contiguous layout: the blocks' channels-last memory stays inside the
        backbone, because the heads' compiled ops read raw channels-first memory (mmcv 2.1's
        ``RoIAlign`` returns wrong features for a channels-last map)."""
        if self.out_norm == 'bn' and i == 3:
            x = self.norm(x)
        elif self.out_norm == 'ln':
            x = channels_last_norm(getattr(self, f'norm{i + 1}'), x)
        return x.contiguous()

    def _stage_modules(self, i: int) -> List[Union[nn.Module, nn.Parameter]]:
        """Modules and parameters that belong to stage ``i`` (frozen together)."""
        modules = [getattr(self, f'patch_embed{i + 1}'), getattr(self, f'blocks{i + 1}')]
        if i == 3 and self.out_norm == 'bn':
            modules.append(self.norm)
        if self.out_norm == 'ln' and i in self.out_indices:
            modules.append(getattr(self, f'norm{i + 1}'))
        return modules

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages + 1):
            for module in self._stage_modules(i):
                if isinstance(module, nn.Parameter):
                    module.requires_grad = False
                    continue
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'UniFormerBase':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def _extra_layer_ids(self) -> Dict[str, int]:
        """Layer ids of top-level parameters outside embeds and blocks (subclass hook)."""
        return {}

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id of a parameter for layer-wise learning-rate decay (mmpretrain API)."""
        depths = self.arch['depths']
        num_layers = sum(depths) + 2
        name = param_name[len(prefix):] if param_name.startswith(prefix) else param_name
        head = name.split('.')[0]
        extra = self._extra_layer_ids()
        if head in extra:
            return extra[head], num_layers
        if head.startswith('patch_embed'):
            stage = int(head[len('patch_embed'):]) - 1
            return sum(depths[:stage]) + (0 if stage == 0 else 1), num_layers
        if head.startswith('blocks'):
            stage = int(head[len('blocks'):]) - 1
            return sum(depths[:stage]) + int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers
