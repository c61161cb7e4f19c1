"""Official UniFormer checkpoints: key mapping, unwrapping, 2-D -> 3-D inflation, loading.

The mapping is a set of pure functions on state dicts, used both by the
backbones' ``init_weights`` (``init_cfg=dict(type='Pretrained', ...)``) and by
``tools/convert_official.py``.

Official layout (image and video): ``patch_embed{1..4}.*``, ``blocks{1..4}.{i}.*``,
``norm.*`` (final BatchNorm), ``head.*`` and, for token labeling, ``aux_head.*``;
layer scales are ``gamma_1``/``gamma_2`` (``(C,)`` in global blocks,
``(1, C, 1, 1)`` in local ones) and, in the light models' shrinking blocks, ``gamma_3``
(the fast update). The light models add ``cls_token``, ``cls_upsample``, ``norm_cls``
(kept in the backbone) and the score-token classifier ``head_cls``. Ours differs only
in the layer scales (``ls{1,2,3}.weight``, always ``(C,)``) and in where the heads live.
"""
import re
from typing import Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.runner.checkpoint import CheckpointLoader

StateDict = Dict[str, torch.Tensor]

# Official classifier-head prefixes -> their place in an mmpretrain classifier.
OFFICIAL_HEAD_KEYS: Dict[str, str] = {
    'head.': 'head.fc.',
    'aux_head.': 'head.aux_fc.',
    'head_cls.': 'head.score_fc.',
}
_GAMMA = re.compile(r'\.gamma_([123])$')
_LS = re.compile(r'\.ls([123])\.weight$')


def unwrap_state_dict(checkpoint: dict) -> StateDict:
    """Return the tensor dict of a checkpoint wrapped as ``{'model': ...}``,
    ``{"state_dict": ...}``, ``{"model_state": ...}`` (SlowFast) or ``{"module": ...}``, without DataParallel's ``module.``."""
    sd = checkpoint
    for key in ('model', 'state_dict', 'model_state', 'module', 'model_ema'):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
            break
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError('checkpoint is not a state dict nor one wrapped in model/state_dict/module')
    if sd and all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return dict(sd)


def official_to_mmuniformer(sd: StateDict) -> Tuple[StateDict, StateDict]:
    """Map official backbone keys to ours and split off the classifier head.

    Returns ``(backbone, head)``: ``backbone`` keyed as :class:`UniFormer`'s
    state dict, ``head`` keyed as an mmpretrain classifier's ``head.*`` entries.
    """
    backbone, head = {}, {}
    for key, value in sd.items():
        for src, dst in OFFICIAL_HEAD_KEYS.items():
            if key.startswith(src):
                head[dst + key[len(src):]] = value
                break
        else:
            match = _GAMMA.search(key)
            if match:
                key = key[:match.start()] + f'.ls{match.group(1)}.weight'
                value = value.reshape(-1)
            backbone[key] = value
    return backbone, head


def mmuniformer_to_official(backbone: StateDict, head: Optional[StateDict] = None,
                            local_stages: Iterable[int] = (1, 2)) -> StateDict:
    """Inverse of :func:`official_to_mmuniformer` (export to the official layout).

    ``head`` holds mmpretrain classifier keys (``head.fc.*``, ...). Layer scales of
    ``local_stages`` get the official ``(1, C, 1[, 1])`` shape.
    """
    out = {}
    for key, value in backbone.items():
        match = _LS.search(key)
        if match:
            stage = int(key.split('.')[0][len('blocks'):])
            if stage in tuple(local_stages):
                value = value.reshape(1, -1, *([1] * (backbone[key[:match.start()] +
                                                                 '.pos_embed.weight'].dim() - 2)))
            key = key[:match.start()] + f'.gamma_{match.group(1)}'
        out[key] = value
    for key, value in (head or {}).items():
        for src, dst in OFFICIAL_HEAD_KEYS.items():
            if key.startswith(dst):
                out[src + key[len(dst):]] = value
                break
        else:
            raise KeyError(f'head key {key!r} has no official counterpart '
                           f'(known: {sorted(OFFICIAL_HEAD_KEYS.values())})')
    return out


def _rename_prefix(key: str, prefixes: Optional[Dict[str, str]]) -> str:
    for src, dst in (prefixes or {}).items():
        if key.startswith(src):
            return dst + key[len(src):]
    return key


def official_key_map(keys: Iterable[str], backbone_prefix: str = 'backbone.',
                     head_prefixes: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Where :func:`official_to_model` puts each official key: ``{official: ours}``."""
    keys = list(keys)
    dense = bool(backbone_prefix) and any(k.startswith(backbone_prefix) for k in keys)
    out = {}
    for key in keys:
        if dense and not key.startswith(backbone_prefix):
            out[key] = _rename_prefix(key, head_prefixes)
            continue
        inner = key[len(backbone_prefix):] if dense else key
        head = None if dense else next(
            (dst + inner[len(src):] for src, dst in OFFICIAL_HEAD_KEYS.items() if inner.startswith(src)),
            None)
        if head is not None:
            out[key] = _rename_prefix(head, head_prefixes)
            continue
        match = _GAMMA.search(inner)
        if match:
            inner = inner[:match.start()] + f'.ls{match.group(1)}.weight'
        out[key] = backbone_prefix + inner
    return out


def official_to_model(sd: StateDict, backbone_prefix: str = 'backbone.',
                      head_prefixes: Optional[Dict[str, str]] = None) -> StateDict:
    """Map an official state dict to a whole model's (e.g. an mmpretrain classifier's).

    Official image/video layout (``patch_embed1.*``, ..., ``head.*``): backbone keys
    get ``backbone_prefix`` (``''`` for a bare backbone), heads go where
    :data:`OFFICIAL_HEAD_KEYS` says (``head.fc.*``, ``head.aux_fc.*``, ...), renamed
    further by ``head_prefixes`` (e.g. ``{'head.fc.': 'cls_head.fc_cls.'}`` for
    mmaction2 recognizers). A checkpoint already keyed with ``backbone_prefix``
    (OpenMMLab 1.x dense-task releases) keeps its keys: only backbone layer scales
    are renamed and the other keys go through ``head_prefixes``. Layer scales
    (``gamma_1``/``gamma_2``) become ``ls1.weight``/``ls2.weight`` of shape ``(C,)``.
    """
    mapping = official_key_map(sd, backbone_prefix, head_prefixes)
    out = {}
    for key, value in sd.items():
        new = mapping[key]
        if _GAMMA.search(key) and _LS.search(new):
            value = value.reshape(-1)
        out[new] = value
    return out


def model_to_official(sd: StateDict, backbone_prefix: str = 'backbone.',
                      head_prefixes: Optional[Dict[str, str]] = None) -> StateDict:
    """Inverse of :func:`official_to_model` for official-layout sources."""
    inverse = {dst: src for src, dst in (head_prefixes or {}).items()}
    backbone, head = {}, {}
    for key, value in sd.items():
        renamed = _rename_prefix(key, inverse)
        is_head = any(renamed.startswith(dst) for dst in OFFICIAL_HEAD_KEYS.values())
        if key.startswith(backbone_prefix) and not (is_head and not backbone_prefix):
            backbone[key[len(backbone_prefix):]] = value
        else:
            head[renamed] = value
    return mmuniformer_to_official(backbone, head)


def compare_state_dicts(sd: StateDict, expected: Dict[str, Tuple[int, ...]]
                        ) -> Tuple[List[str], List[str], List[str]]:
    """Compare a state dict with the expected ``{key: shape}`` of a model.

    Returns ``(missing, unexpected, mismatched)``: expected keys absent from ``sd``,
    keys of ``sd`` the model lacks, and ``'key: (shape) vs (shape)'`` lines.
    """
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(expected[k])}'
                  for k, v in sd.items() if k in expected and tuple(v.shape) != tuple(expected[k])]
    return missing, unexpected, mismatched


def inflate_2d_to_3d(sd: StateDict, target: StateDict, mode: str = 'average') -> Tuple[StateDict, List[str]]:
    """Inflate 2-D conv kernels of ``sd`` to the 3-D shapes in ``target``.

    ``average`` repeats a ``(O, I, kh, kw)`` kernel ``T`` times along time and
    divides by ``T`` (the official default); ``center`` puts it in the middle time
    slot and zeros the rest (as mmaction2). Returns the new dict and the inflated keys.
    """
    if mode not in ('average', 'center'):
        raise ValueError(f"inflation mode must be 'average' or 'center', got {mode!r}")
    out, inflated = dict(sd), []
    for key, value in sd.items():
        ref = target.get(key)
        if ref is None or value.dim() != 4 or ref.dim() != 5 or value.shape != ref.shape[:2] + ref.shape[3:]:
            continue
        t = ref.shape[2]
        if mode == 'average':
            out[key] = value.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        else:
            new = value.new_zeros(ref.shape)
            new[:, :, t // 2] = value
            out[key] = new
        inflated.append(key)
    return out, inflated


def _strip_prefix(sd: StateDict, prefix: Optional[str]) -> StateDict:
    if prefix is None:
        # Full-model checkpoints (ours, mmaction2's converted UniFormer, OpenMMLab 1.x
        # dense-task releases) keep the backbone under 'backbone.'.
        if any(k.startswith('backbone.') for k in sd):
            prefix = 'backbone.'
        else:
            return sd
    if not prefix.endswith('.'):
        prefix += '.'
    sub = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    if not sub:
        sample = ', '.join(sorted(sd)[:5])
        raise KeyError(f'no checkpoint key starts with prefix {prefix!r} (first keys: {sample})')
    return sub


def prepare_backbone_state_dict(model: nn.Module, checkpoint: dict, prefix: Optional[str] = None,
                                logger: Optional[MMLogger] = None) -> StateDict:
    """Turn a loaded checkpoint (official or ours) into ``model``'s backbone state dict.

    Unwraps, strips ``prefix``, maps official keys, drops classifier heads (logged),
    inflates 2-D kernels for 3-D models and raises on shape mismatches.
    """
    logger = logger or MMLogger.get_current_instance()
    raw = unwrap_state_dict(checkpoint)
    sd = _strip_prefix(raw, prefix)
    if len(sd) < len(raw):
        used = (prefix or 'backbone').rstrip('.') + '.'
        others = sorted({k.split('.')[0] for k in raw if not k.startswith(used)})
        print_log(f'ignored {len(raw) - len(sd)} checkpoint tensors outside the backbone '
                  f'(under {others})', logger=logger)
    sd, head = official_to_mmuniformer(sd)
    own = model.state_dict()
    if head:
        print_log(f'dropped {len(head)} classifier-head tensors not used by the backbone: '
                  f'{sorted(head)}', logger=logger)
    if getattr(model, 'ndim', 2) == 3:
        sd, inflated = inflate_2d_to_3d(sd, own, getattr(model, 'inflate', 'average'))
        if inflated:
            print_log(f'inflated {len(inflated)} 2-D kernels to 3-D '
                      f'({getattr(model, "inflate", "average")})', logger=logger)
    bad = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
           for k, v in sd.items() if k in own and v.shape != own[k].shape]
    if bad:
        hint = 'is the arch right?'
        if getattr(model, 'ndim', 2) == 2 and any(v.dim() == 5 for v in sd.values()):
            hint = 'the checkpoint has 5-D (video) kernels: build the backbone with ndim=3'
        elif getattr(model, 'ndim', 2) == 3:
            hint = 'is the arch right? video models also differ in std and temporal_kernel'
        raise ValueError(f'checkpoint does not fit this model ({len(bad)} shape mismatches; '
                         f'{hint}):\n  ' + '\n  '.join(bad))
    return sd


def load_uniformer_checkpoint(model: nn.Module, filename: str, prefix: Optional[str] = None,
                              map_location: str = 'cpu',
                              logger: Optional[MMLogger] = None) -> Tuple[List[str], List[str]]:
    """Load an official or mmuniformer checkpoint into a backbone, naming every
    missing and unexpected key. Returns ``(missing, unexpected)``."""
    logger = logger or MMLogger.get_current_instance()
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location=map_location, logger=logger)
    sd = prepare_backbone_state_dict(model, checkpoint, prefix, logger)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    print_log(f'loaded {len(sd) - len(unexpected)} tensors from {filename}', logger=logger)
    if missing:
        print_log(f'missing keys ({len(missing)}), left at their initial values: {missing}',
                  logger=logger, level=30)
    if unexpected:
        print_log(f'unexpected keys ({len(unexpected)}), ignored: {unexpected}', logger=logger,
                  level=30)
    return list(missing), list(unexpected)
