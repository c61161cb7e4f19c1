"""Official UniFormer checkpoints <-> mmuniformer models: one table-driven key mapping,
unwrapping, 2-D -> 3-D inflation and strict, readable loading.

The official release (Sense-X/UniFormer) stores its models in several layouts:

* image / video classification (``image_classification``, ``video_classification``): bare
  backbone keys ``patch_embed{1..4}.*``, ``blocks{1..4}.{i}.*``, ``norm.*`` plus the
  classifier ``head.*`` (token labeling: ``aux_head.*``; light models: ``head_cls.*``),
  wrapped as ``{'model': ...}`` or ``{'model_state': ...}`` (SlowFast);
* dense tasks (OpenMMLab 1.x: mmdet 2, mmseg 0.x, mmpose 0.x): ``backbone.*`` plus the task's
  heads (``neck.*``, ``rpn_head.*``, ``roi_head.*``, ``decode_head.*``, ``auxiliary_head.*``,
  ``keypoint_head.*``) under ``state_dict``;
* mmaction2's converted UniFormer: ``backbone.*`` plus ``cls_head.fc_cls.*``.

Our backbones use the official module names, so backbone keys map one to one except the
layer scales (official ``gamma_{1,2,3}``, ``(1, C, 1[, 1])`` in local blocks; ours
``ls{1,2,3}.weight``, always ``(C,)``). :data:`KEY_RULES` is the whole mapping: one row
per key family, per target library; :func:`official_to_ours` and :func:`ours_to_official`
apply it in either direction, for ``init_cfg=Pretrained`` and ``tools/convert_official.py``.
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Protocol, Tuple,
                    runtime_checkable)

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log

from .libraries import BY_SCOPE, LIBRARIES

StateDict = Dict[str, torch.Tensor]

#: where a model keeps its backbone; ``'backbone'`` is a bare backbone (``init_cfg``)
SCOPES = ('backbone', ) + tuple(BY_SCOPE)


@dataclass(frozen=True)
class KeyRule:
    """One key family: ``official`` and ``ours`` are patterns in which ``{name}`` stands
    for any text (``{i}`` for one digit); ``scope`` is the library whose models hold the
    key (``'backbone'``: any backbone); ``value`` names a value conversion."""
    official: str
    ours: str
    scope: str
    value: str = ''
    _regex: Dict[str, 're.Pattern'] = field(default_factory=dict, compare=False, repr=False)

    def _pattern(self, side: str) -> 're.Pattern':
        if side not in self._regex:
            text = re.escape(getattr(self, side))
            text = re.sub(r'\\\{(\w+)\\\}', lambda m: f'(?P<{m.group(1)}>' +
                          (r'\d)' if m.group(1) == 'i' else r'.+)'), text)
            self._regex[side] = re.compile(f'^{text}$')
        return self._regex[side]

    def apply(self, key: str, src: str) -> Optional[str]:
        """The key on the other side, or None if ``key`` is not of this family.
        ``src`` is ``'official'`` or ``'ours'``."""
        match = self._pattern(src).match(key)
        if match is None:
            return None
        return getattr(self, 'ours' if src == 'official' else 'official').format(**match.groupdict())


#: Head rows: for each library, ``(official prefix, our prefix)`` pairs of its models'
#: heads (:attr:`mmuniformer.libraries.Library.head_prefixes`); the backbone keeps the
#: official names but for the layer scales (:data:`KEY_RULES`).
HEAD_PREFIX_ROWS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    lib.scope: lib.head_prefixes for lib in LIBRARIES}
#: Per library, official backbone keys that its released models hold but never use
#: (:attr:`~mmuniformer.libraries.Library.unused_official_keys`). The converter drops them
#: (one log line) when the model lacks them.
UNUSED_OFFICIAL_KEYS: Dict[str, 're.Pattern'] = {
    lib.scope: lib.unused_official_keys for lib in LIBRARIES if lib.unused_official_keys}
#: The mapping: the backbone's layer-scale rename, then one row per head prefix and library
#: (first match wins; backbone keys matching no row keep their name).
KEY_RULES: Tuple[KeyRule, ...] = (
    KeyRule('{module}.gamma_{i}', '{module}.ls{i}.weight', 'backbone', value='layer_scale'),
) + tuple(KeyRule(official + '{rest}', ours + '{rest}', scope)
          for scope, rows in HEAD_PREFIX_ROWS.items() for official, ours in rows)
#: backbone keys that depend on the task (output norms): never reported missing/unexpected
OUT_NORM_KEYS = re.compile(r'^norm(\d|_cls)?\.')
#: video-only backbone keys (divided space-time attention) that image checkpoints lack
VIDEO_ONLY_KEYS = re.compile(r'\.t_(attn|norm)\.')
#: official key prefixes that are never part of a backbone (any task's heads)
HEAD_PREFIXES: Tuple[str, ...] = tuple(sorted({
    r.official.split('{')[0] for r in KEY_RULES if r.scope != 'backbone'}))


def _convert_value(rule: KeyRule, value: torch.Tensor, to: str, ndim: int) -> torch.Tensor:
    """Value conversion of ``rule`` towards ``to`` (``'ours'``/``'official'``); ``ndim`` is
    the number of spatial dims of a local block whose layer scale goes to the official
    ``(1, C, 1, ...)`` shape (0 for token-wise scales, which stay ``(C,)``)."""
    if rule.value != 'layer_scale':
        return value
    if to == 'ours':
        return value.reshape(-1)
    return value.reshape(1, -1, *([1] * ndim)) if ndim else value


def unwrap_state_dict(checkpoint: dict) -> StateDict:
    """The tensor dict of a checkpoint wrapped as ``{'model': ...}``, ``{'state_dict': ...}``,
    ``{'model_state': ...}`` (SlowFast), ``{'module': ...}`` or ``{'model_ema': ...}``, without
    DataParallel's ``module.`` prefix."""
    sd = checkpoint
    for key in ('model', 'state_dict', 'model_state', 'module', 'model_ema'):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
            break
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError('the checkpoint is neither a state dict (name -> tensor) nor one wrapped '
                         "in 'model', 'state_dict', 'model_state', 'module' or 'model_ema'")
    if sd and all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return dict(sd)


def _is_head(key: str) -> bool:
    return key.startswith(HEAD_PREFIXES)


def _local_ndim(key: str, sd: StateDict) -> int:
    """Spatial dims of the block holding layer scale ``key`` if it is a local (conv) block,
    else 0: the official local scales are ``(1, C, 1, 1[, 1])``, the global ones ``(C,)``."""
    block = key.rsplit('.', 2)[0]
    pos = sd.get(f'{block}.pos_embed.weight')
    return pos.dim() - 2 if f'{block}.conv1.weight' in sd and pos is not None else 0


@dataclass
class Mapped:
    """Result of a mapping: the new ``state`` (in ``state``'s key order), ``renamed``
    (source key -> new key, for every key whose name changed) and ``left_over`` (source
    keys with no place in the target scope, e.g. another task's heads)."""
    state: StateDict
    renamed: Dict[str, str]
    left_over: List[str]


def official_to_ours(sd: StateDict, scope: str = 'backbone') -> Mapped:
    """Map an official (or already mmuniformer-keyed) state dict to a model of ``scope``.

    ``scope='backbone'`` gives bare backbone keys (heads are left over); a library scope
    gives a whole model (``backbone.`` + backbone keys, heads by that scope's rows).
    Backbone keys may come bare (classification layouts) or under ``backbone.``.
    """
    if scope not in SCOPES:
        raise ValueError(f'unknown scope {scope!r}; accepted: {SCOPES}')
    dense = any(k.startswith('backbone.') for k in sd)
    rules = [r for r in KEY_RULES if r.scope == scope]
    backbone_rules = [r for r in KEY_RULES if r.scope == 'backbone']
    out: StateDict = OrderedDict()
    renamed, left_over = {}, []
    for key, value in sd.items():
        inner = key[len('backbone.'):] if key.startswith('backbone.') else key
        if (dense and not key.startswith('backbone.')) or (not dense and _is_head(key)):
            new = next((n for n in (r.apply(key, 'official') for r in rules) if n), None)
            if new is None:
                left_over.append(key)
                continue
        else:
            rule = next((r for r in backbone_rules if r.apply(inner, 'official')), None)
            new = rule.apply(inner, 'official') if rule else inner
            if rule is not None:
                value = _convert_value(rule, value, 'ours', 0)
            if scope != 'backbone':
                new = 'backbone.' + new
        out[new] = value
        if new != key:
            renamed[key] = new
    return Mapped(out, renamed, left_over)


def ours_to_official(sd: StateDict, scope: str = 'backbone', dense: Optional[bool] = None
                     ) -> Mapped:
    """Inverse of :func:`official_to_ours`: export a model of ``scope`` to the official
    layout. ``dense`` keeps the backbone under ``backbone.`` (default: for mmdet, mmseg
    and mmpose, as the official dense-task releases). Keys that no row of ``scope`` maps
    back are left over."""
    if scope not in SCOPES:
        raise ValueError(f'unknown scope {scope!r}; accepted: {SCOPES}')
    if dense is None:
        dense = scope != 'backbone' and BY_SCOPE[scope].dense_checkpoint
    rules = [r for r in KEY_RULES if r.scope == scope]
    backbone_rules = [r for r in KEY_RULES if r.scope == 'backbone']
    out: StateDict = OrderedDict()
    renamed, left_over = {}, []
    for key, value in sd.items():
        if scope == 'backbone' or key.startswith('backbone.'):
            inner = key[len('backbone.'):] if scope != 'backbone' else key
            rule = next((r for r in backbone_rules if r.apply(inner, 'ours')), None)
            new = rule.apply(inner, 'ours') if rule else inner
            if rule is not None:
                value = _convert_value(rule, value, 'official', _local_ndim(key, sd))
            new = ('backbone.' if dense else '') + new
        else:
            new = next((n for n in (r.apply(key, 'ours') for r in rules) if n), None)
            if new is None:
                left_over.append(key)
                continue
        out[new] = value
        if new != key:
            renamed[key] = new
    return Mapped(out, renamed, left_over)


_BLOCK_KEY = re.compile(r'^(?P<stage>(?:.*\.)?blocks\d+)\.(?P<index>\d+)\.')


def summarise_keys(keys: Iterable[str]) -> List[str]:
    """A few readable lines for many keys: block keys grouped per stage and block range
    (``blocks3.{8..19} (12 blocks, 168 tensors)``), the others per top-level module
    (``norm (5 tensors)``)."""
    stages: Dict[str, List[int]] = OrderedDict()
    counts: Dict[str, int] = OrderedDict()
    for key in keys:
        match = _BLOCK_KEY.match(key)
        group = match.group('stage') if match else key.rsplit('.', 1)[0] if '.' in key else key
        if match:
            stages.setdefault(group, []).append(int(match.group('index')))
        counts[group] = counts.get(group, 0) + 1
    lines = []
    for group, count in counts.items():
        if group in stages:
            idx = sorted(set(stages[group]))
            ranges, start = [], idx[0]
            for a, b in zip(idx, idx[1:] + [None]):
                if b != a + 1:
                    ranges.append(str(start) if start == a else f'{start}..{a}')
                    start = b
            lines.append(f'{group}.{{{",".join(ranges)}}} ({len(idx)} block'
                         f'{"s" if len(idx) > 1 else ""}, {count} tensors)')
        else:
            lines.append(f'{group} ({count} tensor{"s" if count > 1 else ""})')
    return lines


def describe_arch(sd: StateDict) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """``(depths, embed_dims)`` of a backbone state dict (our keys, bare); 0 where a stage
    has no block."""
    depths, dims = [], []
    for i in range(1, 5):
        blocks = {int(m.group('index')) for m in map(_BLOCK_KEY.match, sd)
                  if m and m.group('stage') == f'blocks{i}'}
        depths.append(max(blocks) + 1 if blocks else 0)
        pos = sd.get(f'blocks{i}.0.pos_embed.weight')
        dims.append(int(pos.shape[0]) if pos is not None else 0)
    return tuple(depths), tuple(dims)


@dataclass(frozen=True)
class BackboneLayout:
    """What the mapping needs to know about the backbone a checkpoint goes into.

    ``name``: its class name (for messages); ``arch``: its arch dict (``depths``,
    ``embed_dims``, ...) and ``arch_name`` its zoo name (None: a custom dict); ``arch_zoo``:
    the zoo of its class (to name the arch a checkpoint looks like); ``ndim``: 2 (images)
    or 3 (video: 2-D kernels are inflated, ``inflate`` ``'average'`` or ``'center'``).
    """
    name: str
    arch: Mapping[str, Any]
    arch_name: Optional[str] = None
    arch_zoo: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ndim: int = 2
    inflate: str = 'average'


@runtime_checkable
class HasCheckpointLayout(Protocol):
    """A backbone that states its :class:`BackboneLayout` (ours: ``UniFormerBase``)."""

    def checkpoint_layout(self) -> BackboneLayout:
        ...


def backbone_layout(module: Optional[nn.Module]) -> Optional[BackboneLayout]:
    """The layout ``module`` states (:class:`HasCheckpointLayout`), None for other modules."""
    return module.checkpoint_layout() if isinstance(module, HasCheckpointLayout) else None


def _arch_hint(layout: BackboneLayout, sd: StateDict) -> str:
    """``checkpoint looks like 'base' (5, 8, 20, 7); this model is 'small' (3, 4, 8, 3)``:
    the zoo archs of the backbone's class whose tensor shapes the checkpoint has."""
    depths, dims = describe_arch(sd)
    stem = 'conv' if 'patch_embed1.proj.0.weight' in sd else 'plain'
    ls_stages = tuple(i for i in range(4) if f'blocks{i + 1}.0.ls1.weight' in sd)
    names = [name for name, arch in layout.arch_zoo.items()
             if (tuple(arch['depths']), tuple(arch['embed_dims'])) == (depths, dims)
             and arch.get('stem', stem) == stem
             and tuple(arch.get('layer_scale_stages', ())) == ls_stages]
    name, arch = layout.arch_name, layout.arch
    hint = (f"checkpoint looks like {repr(names[0]) if names else 'no known arch'} {depths}; "
            f"this model is {repr(name) if name else 'a custom arch'} "
            f"{tuple(arch.get('depths', ()))}")
    if dims != tuple(arch.get('embed_dims', dims)):
        hint += f" (embed dims: checkpoint {dims}, model {tuple(arch['embed_dims'])})"
    if len(names) > 1:
        hint += (f"; {' and '.join(repr(n) for n in names[1:])} "
                 f"{'has' if len(names) == 2 else 'have'} the same tensor shapes (head_dim is "
                 'not visible in weights)')
    return hint


def inflate_2d_to_3d(sd: StateDict, target: StateDict, mode: str = 'average'
                     ) -> Tuple[StateDict, List[str]]:
    """Inflate 2-D conv kernels of ``sd`` to the 3-D shapes in ``target``.

    ``average`` repeats a ``(O, I, kh, kw)`` kernel ``T`` times along time and divides by
    ``T`` (the official default); ``center`` puts it in the middle time slot and zeros the
    rest (as mmaction2). Returns the new dict and the inflated keys.
    """
    if mode not in ('average', 'center'):
        raise ValueError(f"inflation mode must be 'average' or 'center', got {mode!r}")
    out, inflated = dict(sd), []
    for key, value in sd.items():
        ref = target.get(key)
        if (ref is None or value.dim() != 4 or ref.dim() != 5
                or value.shape != ref.shape[:2] + ref.shape[3:]):
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


def _strip_prefix(sd: StateDict, prefix: Optional[str]) -> Tuple[StateDict, List[str]]:
    """``(keys under prefix without it, keys outside it)``; ``None`` takes ``backbone.`` when
    the checkpoint holds a whole model (ours, mmaction2's converted UniFormer, the dense
    releases) and everything otherwise."""
    if prefix is None:
        if not any(k.startswith('backbone.') for k in sd):
            return sd, []
        prefix = 'backbone.'
    if not prefix.endswith('.'):
        prefix += '.'
    sub = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    if not sub:
        sample = ', '.join(sorted(sd)[:5])
        raise KeyError(f'no checkpoint key starts with prefix {prefix!r} (first keys: {sample})')
    return sub, [k for k in sd if not k.startswith(prefix)]


@dataclass
class FitReport:
    """How a backbone state dict fits a model: keys the model lacks in the checkpoint
    (``missing``), checkpoint keys the model lacks (``unexpected``) and shape mismatches."""
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched)

    def lines(self) -> List[str]:
        out = []
        for label, keys in (('missing from the checkpoint', self.missing),
                            ('unexpected (not in the model)', self.unexpected)):
            if keys:
                out.append(f'{len(keys)} {label}: ' + '; '.join(summarise_keys(keys)))
        if self.mismatched:
            shown = self.mismatched[:8]
            more = len(self.mismatched) - len(shown)
            out.append(f'{len(self.mismatched)} shape mismatches: ' + '; '.join(shown) +
                       (f'; ... {more} more' if more else ''))
        return out


def fit_state_dict(sd: StateDict, own: StateDict) -> FitReport:
    """Compare ``sd`` with a model's state dict ``own`` (BatchNorm ``num_batches_tracked``
    counters, which do not change outputs, are never reported missing)."""
    return FitReport(
        missing=[k for k in own if k not in sd and not k.endswith('num_batches_tracked')],
        unexpected=[k for k in sd if k not in own],
        mismatched=[f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
                    for k, v in sd.items() if k in own and v.shape != own[k].shape])


def prepare_backbone_state_dict(own: StateDict, checkpoint: dict, layout: BackboneLayout,
                                prefix: Optional[str] = None, strict: bool = True,
                                logger: Optional[MMLogger] = None
                                ) -> Tuple[StateDict, FitReport]:
    """Turn a loaded checkpoint (official layouts or ours) into the state dict of a backbone
    whose own state dict is ``own`` and whose layout is ``layout``.

    Unwraps, strips ``prefix``, maps official keys, drops other heads (one log line),
    inflates 2-D kernels for 3-D models. ``strict``: any missing, unexpected or
    mis-shaped backbone key raises a ``ValueError`` summarising them by stage and block
    range and naming the arch the checkpoint looks like; otherwise what fits is returned
    and the same summary is logged as a warning. Returns the state dict to load and the
    fit report (output norms of another task excluded).
    """
    logger = logger or MMLogger.get_current_instance()
    raw = unwrap_state_dict(checkpoint)
    sub, outside = _strip_prefix(raw, prefix)
    mapped = official_to_ours(sub, 'backbone')
    sd = mapped.state
    dropped = outside + mapped.left_over
    if dropped:
        groups: Dict[str, int] = OrderedDict()
        for key in dropped:
            groups[key.split('.')[0]] = groups.get(key.split('.')[0], 0) + 1
        print_log(f'dropped {len(dropped)} checkpoint tensors outside the backbone: ' +
                  ', '.join(f'{g}.* ({n})' for g, n in groups.items()), logger=logger)
    # The output norms belong to the task (classification BatchNorm ``norm``, dense
    # LayerNorms ``norm{i}``, the light models' ``norm_cls``): an ImageNet checkpoint
    # initialises a dense backbone without them.
    task_norms = [k for k in set(sd) ^ set(own) if OUT_NORM_KEYS.match(k)]
    if task_norms:
        print_log('output norms of another task are not loaded (they stay at their initial '
                  'values or are dropped): ' + '; '.join(summarise_keys(sorted(task_norms))),
                  logger=logger)
        sd = {k: v for k, v in sd.items() if k in own or not OUT_NORM_KEYS.match(k)}
        own = {k: v for k, v in own.items() if k in sd or not OUT_NORM_KEYS.match(k)}
    if layout.ndim == 3:
        mode = layout.inflate
        sd, inflated = inflate_2d_to_3d(sd, own, mode)
        if inflated:
            print_log(f'inflated {len(inflated)} 2-D kernels to 3-D ({mode})', logger=logger)
            # an image checkpoint has no temporal attention (split blocks): it keeps its init
            temporal = [k for k in own if k not in sd and VIDEO_ONLY_KEYS.search(k)]
            if temporal:
                print_log('temporal attention not in the image checkpoint, kept at its '
                          'initialisation: ' + '; '.join(summarise_keys(temporal)), logger=logger)
                own = {k: v for k, v in own.items() if k not in temporal}
    report = fit_state_dict(sd, own)
    if not report:
        return sd, report
    hint = _arch_hint(layout, sd)
    if layout.ndim == 2 and any(v.dim() == 5 for v in sd.values()):
        hint += '; the checkpoint has 5-D (video) kernels: build the backbone with ndim=3'
    elif layout.ndim == 3 and report.mismatched:
        hint += '; video models also differ in std and temporal_kernel'
    if strict:
        raise ValueError(f'checkpoint does not fit {layout.name}: ' + hint + '\n  ' +
                         '\n  '.join(report.lines()) + "\n(init_cfg=dict(type='Pretrained', ..., "
                         'strict=False) loads only the tensors that fit)')
    print_log(f'strict=False: loading the tensors that fit; {hint}; ' + ' | '.join(report.lines()),
              logger=logger, level=30)
    bad = {line.split(':')[0] for line in report.mismatched}
    return {k: v for k, v in sd.items() if k in own and k not in bad}, report


def load_uniformer_checkpoint(model: nn.Module, filename: str, prefix: Optional[str] = None,
                              strict: bool = True, map_location: str = 'cpu',
                              logger: Optional[MMLogger] = None) -> FitReport:
    """Load an official or mmuniformer checkpoint into one of our backbones (see
    :func:`prepare_backbone_state_dict`, with the backbone's ``checkpoint_layout()``);
    returns how it fitted."""
    layout = backbone_layout(model)
    if layout is None:
        raise TypeError(f'load_uniformer_checkpoint loads UniFormer / UniFormerLight backbones, '
                        f'got {type(model).__name__}')
    logger = logger or MMLogger.get_current_instance()
    checkpoint = load_checkpoint_file(filename, map_location=map_location)
    sd, report = prepare_backbone_state_dict(model.state_dict(), checkpoint, layout, prefix,
                                             strict, logger)
    model.load_state_dict(sd, strict=False)
    print_log(f'loaded {len(sd)} tensors from {filename}', logger=logger)
    return report


def convert_to_model(checkpoint: dict, model: nn.Module, scope: str,
                     logger: Optional[MMLogger] = None,
                     layout: Optional[BackboneLayout] = None
                     ) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official checkpoint onto a whole model of ``scope`` (``tools/convert_official.py``).

    ``layout``: that of ``model.backbone`` (default: :func:`backbone_layout`), for naming
    the arch of a checkpoint that does not fit. Returns the state dict in ``model``'s key order; BatchNorm ``num_batches_tracked``
    counters absent from the checkpoint are filled from the model. Anything missing, left
    over or of another shape raises a ``ValueError`` that summarises the keys.
    """
    logger = logger or MMLogger.get_current_instance()
    official = unwrap_state_dict(checkpoint)
    target = model.state_dict()
    unused = UNUSED_OFFICIAL_KEYS.get(scope)
    dropped = [k for k in official if unused is not None and unused.match(k) and k not in target]
    if dropped:
        print_log(f'dropped {len(dropped)} official tensors that the released {scope} model '
                  'never uses: ' + '; '.join(summarise_keys(dropped)), logger=logger)
        official = {k: v for k, v in official.items() if k not in dropped}
    mapped = official_to_ours(official, scope)
    report = fit_state_dict(mapped.state, target)
    official_name = {v: k for k, v in mapped.renamed.items()}
    report.unexpected = [official_name.get(k, k) for k in report.unexpected] + mapped.left_over
    if report:
        backbone = {k[len('backbone.'):]: v for k, v in mapped.state.items()
                    if k.startswith('backbone.')}
        parts = [f'the checkpoint does not fit {type(model).__name__} ({len(official)} checkpoint '
                 f'tensors, {len(target)} model tensors; unexpected keys in official names):']
        parts += [f'  {line}' for line in report.lines()]
        if layout is None and isinstance(model, nn.Module):
            layout = backbone_layout(model.get_submodule('backbone')
                                     if 'backbone' in dict(model.named_children()) else None)
        if layout is not None and backbone:
            parts.append('  ' + _arch_hint(layout, backbone))
        dims = {(mapped.state[k].dim(), v.dim()) for k, v in target.items() if k in mapped.state}
        if (4, 5) in dims:
            parts.append('This is an image (2-D) checkpoint and the config builds a video model: '
                         "set it as the backbone's init_cfg=dict(type='Pretrained', checkpoint=SRC), "
                         'which inflates the kernels to 3-D, and train.')
        elif (5, 4) in dims:
            parts.append('This is a video (3-D) checkpoint and the config builds an image model: '
                         'use a video config (backbone ndim=3).')
        raise ValueError('\n'.join(parts))
    out = OrderedDict((k, mapped.state.get(k, target[k])) for k in target)
    families: Dict[Tuple[str, str], int] = OrderedDict()
    for src, dst in mapped.renamed.items():
        if dst == 'backbone.' + src:  # bare backbone keys moved under the model's backbone
            family = ('KEY', 'backbone.KEY')
        else:
            family = tuple(re.sub(r'\.\d+\.', '.*.', k) for k in (src, dst))
        families[family] = families.get(family, 0) + 1
    shown = [f'{s} -> {d} ({n})' for (s, d), n in list(families.items())[:8]]
    more = len(families) - len(shown)
    print_log(f'mapped {len(official)} official tensors onto {type(model).__name__} ({scope}); '
              f'{len(mapped.renamed)} renamed: ' + ', '.join(shown)
              + (f', ... {more} more families' if more else ''), logger=logger)
    return out


# ---------------------------------------------------------------------------------------------
# Checkpoint files: one checked, weights-only reader, and the "does this file fit" diagnosis
# used by the converter, the demos, the inferencers and whole-model loads (load_from, mim test).
# ---------------------------------------------------------------------------------------------

#: command printed wherever an official checkpoint must be converted first
CONVERT_COMMAND = 'python tools/convert_official.py SRC DST --config CONFIG'
#: our whole-model head prefixes per library (after conversion), to name another task's file
TASK_HEAD_PREFIXES: Tuple[Tuple[str, Tuple[str, ...]], ...] = tuple(
    (lib.scope, lib.model_head_prefixes) for lib in LIBRARIES)
#: what each scope's models are, for messages
TASK_NAMES: Dict[str, str] = {lib.scope: lib.description for lib in LIBRARIES}


def _file_kind(path: str, head: bytes) -> str:
    """A short description of a file that is not a readable checkpoint, from its first bytes."""
    if head.startswith(b'PK\x03\x04'):
        return 'a zip archive (torch.save format)'
    if head.startswith(b'\x80'):
        return 'a pickle (legacy torch.save format)'
    if head[8:9] == b'{' and head[9:10] == b'"':
        return 'a safetensors file (load it with safetensors and save it with torch.save)'
    if head.startswith((b'\x89PNG', b'\xff\xd8\xff', b'GIF8')):
        return 'an image'
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return f'binary data starting with {head[:8]!r}'
    if all(c.isprintable() or c in '\r\n\t' for c in text):
        return f'a text file starting with {text[:40]!r}'
    return f'binary data starting with {head[:8]!r}'


def load_checkpoint_file(path: str, map_location: str = 'cpu') -> dict:
    """Read a checkpoint file with ``torch.load(weights_only=True)``, checked before and after.

    Every checkpoint file the project reads goes through here. The allow-list is the one
    mmengine's own checkpoints need (:func:`mmuniformer.compat.allow_mmengine_checkpoints`)
    plus ``argparse.Namespace`` (the ``args`` that timm's saver stores in the official
    image checkpoints); ``weights_only=True`` is passed explicitly, so
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` does not switch it off. Remote paths
    (``https://...``) are fetched through mmengine's file backends first.

    Raises:
        FileNotFoundError: ``path`` does not exist (or is a directory).
        ValueError: the file is empty, not a torch checkpoint (text, image, ...), truncated
            or damaged, holds objects weights-only loading refuses (a crafted pickle), or
            holds something other than a dict. Every message names the file.
    """
    import argparse
    import os
    import pickle
    import zipfile

    from .compat import allow_mmengine_checkpoints
    if '://' in str(path):
        from mmengine.fileio import get_local_path
        with get_local_path(str(path)) as local:
            return load_checkpoint_file(local, map_location)
    path = str(path)
    if os.path.isdir(path):
        raise FileNotFoundError(f'checkpoint {path!r} is a directory, not a file')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError(f'checkpoint {path!r} is empty (0 bytes)')
    with open(path, 'rb') as f:
        head = f.read(64)
    if not head.startswith((b'PK\x03\x04', b'\x80')):
        raise ValueError(f'checkpoint {path!r} ({size} bytes) is not a torch checkpoint: it is '
                         f'{_file_kind(path, head)}')
    if head.startswith(b'PK') and not zipfile.is_zipfile(path):
        raise ValueError(f'checkpoint {path!r} ({size} bytes) is a truncated or damaged zip '
                         'archive (torch.save format): its end (the zip directory) is missing; '
                         'download or copy it again')
    allow_mmengine_checkpoints()
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        detail = re.search(r'(?:WeightsUnpickler error: )?(Unsupported (?:global|class): '
                           r'(?:GLOBAL )?[\w.]+|'
                           r'[^\n]*is not allowed[^\n]*|Trying to call reduce[^\n]*)', text)
        if detail:
            raise ValueError(
                f'checkpoint {path!r} was refused: it holds Python objects that weights-only '
                f'loading does not allow ({detail.group(1).strip()}). A checkpoint holds '
                'tensors and plain metadata only; load it with torch.load(weights_only=False) '
                'only if you trust its source, and save its state dict again.') from None
        last = re.search(r'WeightsUnpickler error: ([^\n]*)', text)
        msg = last.group(1) if last else (text.strip().splitlines() or ['UnpicklingError'])[0]
        raise ValueError(f'checkpoint {path!r} ({size} bytes) is truncated or damaged: '
                         f'{msg}') from None
    except (EOFError, RuntimeError, IndexError, KeyError, zipfile.BadZipFile,
            OSError) as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f'checkpoint {path!r} ({size} bytes) is truncated or damaged '
                         f'({type(err).__name__}: {msg})') from None
    if not isinstance(checkpoint, dict):
        raise ValueError(f'checkpoint {path!r} holds a {type(checkpoint).__name__}, not a '
                         'checkpoint dict (a state dict, or one under '
                         "'state_dict' / 'model' / 'model_state')")
    return checkpoint


def checkpoint_task(checkpoint: dict, sd: Optional[StateDict] = None) -> Optional[str]:
    """The library scope whose model a (whole-model) checkpoint holds: its ``meta['scope']``
    (our tools), the ``default_scope`` of the config mmengine's runner saves in
    ``meta['cfg']``, else its head keys. None when nothing tells."""
    meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
    if meta.get('scope') in SCOPES[1:]:
        return meta['scope']
    match = re.search(r"default_scope\s*=\s*'(\w+)'", str(meta.get('cfg', '')))
    if match and match.group(1) in SCOPES[1:]:
        return match.group(1)
    keys = list(sd if sd is not None else unwrap_state_dict(checkpoint))
    for scope, prefixes in TASK_HEAD_PREFIXES:
        if any(k.startswith(prefixes) for k in keys):
            return scope
    return None


def is_official_layout(sd: StateDict) -> bool:
    """True for the official release's layouts that our models cannot load as they are:
    bare backbone keys (classification releases), official layer scales (``gamma_1``),
    the light models' ``head_cls`` or the pose releases' ``keypoint_head``."""
    bare = any(k.startswith(('patch_embed1.', 'blocks1.')) for k in sd)
    return bare or any(re.search(r'\.gamma_\d$', k) for k in sd) or any(
        k.startswith(('keypoint_head.', 'head_cls.')) for k in sd)


def describe_misfit(checkpoint: dict, model: nn.Module, scope: str,
                    path: str = 'SRC') -> Optional[str]:
    """Why ``checkpoint`` (loaded) cannot be loaded into ``model`` (a whole model of library
    ``scope``) as it is; None when every model tensor is there with its shape and nothing is
    left over. The text says what the file is (official layout, another task, another
    arch) and what to do (the converter command for official files)."""
    try:
        sd = unwrap_state_dict(checkpoint)
    except ValueError as err:
        return f'{path} holds no state dict: {err}'
    own = model.state_dict()
    report = fit_state_dict(sd, own)
    if not report:
        return None
    what = TASK_NAMES.get(scope, scope)
    lines = []
    other = checkpoint_task(checkpoint, sd)
    if is_official_layout(sd) or (other is None and not any(k.startswith('backbone.')
                                                             for k in sd)):
        lines.append(f'{path} is an official UniFormer checkpoint (official key layout), not '
                     f'one of this model ({what}): convert it first with\n  '
                     + CONVERT_COMMAND.replace('SRC', path))
    elif other is not None and other != scope:
        lines.append(f'{path} holds {TASK_NAMES[other]}, not {what}: use a config of that '
                     "task, or start this model's backbone from it with init_cfg=dict("
                     f"type='Pretrained', checkpoint='{path}') and train")
    else:
        backbone = {k[len('backbone.'):]: v for k, v in sd.items() if k.startswith('backbone.')}
        model_backbone = getattr(model, 'backbone', None)
        if backbone and model_backbone is not None and hasattr(model_backbone, 'arch_zoo'):
            own_bb = {k[len('backbone.'):]: v for k, v in own.items()
                      if k.startswith('backbone.')}
            if fit_state_dict(backbone, own_bb):
                lines.append(f'{path} holds another arch: ' + _arch_hint(model_backbone,
                                                                          backbone))
        if not lines:
            lines.append(f'{path} does not fit this model, {what} (another config: other '
                         'heads, class count or widths)')
    lines += ['  ' + line for line in report.lines()]
    return '\n'.join(lines)


def check_backbone_state_dict(module: nn.Module, state_dict: StateDict, prefix: str) -> None:
    """Refuse a whole-model load (``load_from``, ``mim test --checkpoint``, the inferencers)
    whose backbone part does not fit: called by our backbones' ``_load_from_state_dict`` with
    the keys under the backbone's ``prefix`` (e.g. ``backbone.``). A bare backbone
    (``prefix=''``: ``init_cfg=Pretrained``, which maps official keys itself) is not checked.
    Raises ``ValueError`` naming what the file holds and the converter command."""
    if not prefix:
        return
    sub = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    own = {k: v for k, v in module.state_dict().items()}
    if not sub:
        raise ValueError(
            f'the checkpoint has no {prefix}* tensors for the UniFormer backbone: it is not a '
            'checkpoint of this model (an official classification release keeps the backbone '
            f'keys bare, e.g. patch_embed1.*; convert it with: {CONVERT_COMMAND})')
    if any(re.search(r'\.gamma_\d$', k) for k in sub):
        raise ValueError(f'the checkpoint has official layer-scale keys ({prefix}*.gamma_1): it '
                         f'is an official UniFormer release; convert it with: {CONVERT_COMMAND}')
    unused = [k for k in sub if k not in own and OUT_NORM_KEYS.match(k)
              and re.match(r'^norm[123]\.', k)]
    if unused and all(f'norm{i}.weight' not in own for i in (1, 2, 3)) and 'norm4.weight' in own:
        raise ValueError(f'the checkpoint has stage 1-3 LayerNorms ({prefix}norm1-3) that this '
                         'pose backbone does not build: it is an official UniFormer pose '
                         f'release; convert it with: {CONVERT_COMMAND}')
    report = fit_state_dict(sub, own)
    if report:
        raise ValueError(f'the checkpoint does not fit the {type(module).__name__} at {prefix}* '
                         f'({_arch_hint(module, sub)}):\n  ' + '\n  '.join(report.lines()))
