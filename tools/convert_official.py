"""Convert an official UniFormer checkpoint into an mmengine checkpoint for a config.

    python tools/convert_official.py SRC.pth DST.pth --config CONFIG [--cfg-options ...]

SRC is an official release: image ones as ``{'model': state_dict}`` (token-labeling
ones also carry ``aux_head``), video ones as ``{'model_state': state_dict}`` (SlowFast)
or ``{'model': ...}`` with 5-D kernels; checkpoints already converted for mmaction2's
built-in UniFormer (``backbone.`` + official keys, ``cls_head.fc_cls.*``) pass too.
Keys are mapped with :func:`mmuniformer.checkpoint.official_to_model`; the official
classifier ``head.*`` goes to ``head.fc.*`` (mmpretrain classifiers) or to
``cls_head.fc_cls.*`` (mmaction2 recognizers), by what the model has. The result is
checked against the model CONFIG builds: every model key must be present with the
same shape and no checkpoint key may be left over, otherwise a ``ValueError`` lists
the keys. DST is ``{'meta': {...}, 'state_dict': ...}``, loadable by
``mim test <lib> CONFIG --checkpoint DST``. ImageNet (2-D) weights for a video model
are not converted here: give them to the backbone's
``init_cfg=dict(type='Pretrained', checkpoint=...)``, which inflates them.
"""
import argparse
import os.path as osp
import re
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import DictAction
from mmengine.logging import MMLogger

try:
    import mmuniformer
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer
from mmuniformer.analysis import build_model_from_config
from mmuniformer.checkpoint import (compare_state_dicts, official_key_map, official_to_model,
                                    unwrap_state_dict)

# Where the official classifier head goes in each kind of model (by a key the model has);
# the renames are applied by official_to_model's ``head_prefixes``.
HEAD_PLACES: Dict[str, Dict[str, str]] = {
    'head.fc.weight': {},  # mmpretrain classifiers
    'cls_head.fc_cls.weight': {'head.fc.': 'cls_head.fc_cls.'},  # mmaction2 recognizers (I3DHead, ...)
}
_BLOCK = re.compile(r'^(.*blocks\d+)\.(\d+)\.(.*)$')
_INDEX = re.compile(r'(blocks\d+)\.\d+\.')


def summarise_keys(keys: Sequence[str]) -> List[str]:
    """Readable key list: block indices collapsed and parameters grouped per module
    (``backbone.blocks3.{8..19}.attn.qkv.{weight,bias}``)."""
    blocks: Dict[str, List[int]] = OrderedDict()
    for key in keys:
        match = _BLOCK.match(key)
        pattern = f'{match.group(1)}.{{}}.{match.group(3)}' if match else key
        blocks.setdefault(pattern, [])
        if match:
            blocks[pattern].append(int(match.group(2)))
    modules: Dict[str, List[str]] = OrderedDict()
    for pattern, idx in blocks.items():
        if idx:
            idx = sorted(set(idx))
            ranges, start = [], idx[0]
            for a, b in zip(idx, idx[1:] + [None]):
                if b != a + 1:
                    ranges.append(str(start) if start == a else f'{start}..{a}')
                    start = b
            label = ranges[0] if len(ranges) == 1 and '..' not in ranges[0] else '{' + ','.join(ranges) + '}'
            pattern = pattern.replace('{}', label, 1)
        module, _, param = pattern.rpartition('.')
        modules.setdefault(module, []).append(param)
    lines = []
    for module, params in modules.items():
        if not module:
            lines += params
        else:
            lines.append(f'{module}.{params[0]}' if len(params) == 1 else
                         f'{module}.{{{",".join(params)}}}')
    return lines


def _rules(pairs: Sequence[tuple]) -> List[tuple]:
    """``[((src, dst), count)]`` with block indices written as ``*``."""
    rules: Dict[tuple, int] = OrderedDict()
    for src, dst in pairs:
        rule = tuple(_INDEX.sub(r'\1.*.', k) for k in (src, dst))
        rules[rule] = rules.get(rule, 0) + 1
    return list(rules.items())


def _backbone_prefix(model_keys: Sequence[str]) -> str:
    return 'backbone.' if any(k.startswith('backbone.') for k in model_keys) else ''


def _dims_hint(sd: Dict[str, torch.Tensor], target: Dict[str, torch.Tensor]) -> Optional[str]:
    """Explain image-vs-video mismatches (4-D kernels where the model has 5-D, or the reverse)."""
    pairs = [(sd[k].dim(), v.dim()) for k, v in target.items() if k in sd]
    if (4, 5) in pairs:
        return ('This is an image (2-D) checkpoint and the config builds a video model: set it as '
                "the backbone's init_cfg=dict(type='Pretrained', checkpoint=SRC), which inflates "
                "the kernels to 3-D (backbone argument inflate='average' or 'center'), and train.")
    if (5, 4) in pairs:
        return ('This is a video (3-D) checkpoint and the config builds an image model: use a video '
                'config (backbone ndim=3).')
    return None


def convert(checkpoint: dict, model: nn.Module, logger: Optional[MMLogger] = None
            ) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official checkpoint onto ``model``'s state dict, validating every key.

    Returns the state dict in ``model``'s key order. Missing BatchNorm
    ``num_batches_tracked`` counters are filled from the model (they do not affect
    inference); anything else missing, left over or of another shape raises a
    ``ValueError`` that lists the keys.
    """
    logger = logger or MMLogger.get_current_instance()
    official = unwrap_state_dict(checkpoint)
    target = model.state_dict()
    prefix = _backbone_prefix(list(target))
    head_prefixes = next((v for k, v in HEAD_PLACES.items() if k in target), {})
    key_map = official_key_map(official, prefix, head_prefixes)
    sd = official_to_model(official, prefix, head_prefixes)
    missing, unexpected, mismatched = compare_state_dicts(
        sd, {k: tuple(v.shape) for k, v in target.items()})
    filled = [k for k in missing if k.endswith('num_batches_tracked')]
    missing = [k for k in missing if k not in filled]
    if missing or unexpected or mismatched:
        inverse = {v: k for k, v in key_map.items()}
        parts = [f'the checkpoint does not fit {type(model).__name__} '
                 f'({len(official)} checkpoint tensors, {len(target)} model tensors):']
        if missing:
            parts.append(f'  {len(missing)} model keys have no checkpoint tensor:')
            parts += [f'    {k}' for k in summarise_keys(missing)]
        if unexpected:
            parts.append(f'  {len(unexpected)} checkpoint keys (official names) have no place '
                         'in the model:')
            parts += [f'    {k}' for k in summarise_keys([inverse.get(k, k) for k in unexpected])]
        if mismatched:
            parts.append(f'  {len(mismatched)} shape mismatches:')
            parts += [f'    {k}' for k in mismatched]
        parts.append(_dims_hint(sd, target) or
                     'Is the config the same model as the checkpoint (size, stem, layer scale, '
                     'heads)? E.g. a UniFormer-B checkpoint needs configs/cls/uniformer_b_in1k.py.')
        raise ValueError('\n'.join(parts))
    for key in filled:
        sd[key] = target[key].clone()

    renamed = {k: v for k, v in key_map.items() if v != prefix + k}
    logger.info(f'mapped {len(official)} official tensors onto {type(model).__name__}: '
                f'{len(official) - len(renamed)} backbone tensors under {prefix or "(no prefix)"!r}, '
                f'{len(renamed)} renamed')
    for (src, dst), count in _rules(list(renamed.items())):
        logger.info(f'  {src} -> {dst}' + (f' ({count} keys)' if count > 1 else ''))
    if filled:
        logger.info(f'filled {len(filled)} BatchNorm num_batches_tracked counters absent from the '
                    'checkpoint with the model\'s values')
    logger.info('note: head_dim (the number of attention heads) cannot be checked from weights; '
                'the config\'s arch must match the checkpoint\'s (e.g. small_plus uses head_dim 32)')
    return OrderedDict((k, sd[k]) for k in target)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--config', required=True, help='config of the target model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)

    logger = MMLogger.get_instance('convert_official', log_level='INFO')
    model, _, scope = build_model_from_config(args.config, args.cfg_options)
    checkpoint = torch.load(args.src, map_location='cpu', weights_only=False)
    try:
        state_dict = convert(checkpoint, model, logger)
    except ValueError as err:
        print(f'error: {args.src} does not fit {args.config}:\n{err}', file=sys.stderr)
        raise SystemExit(1)
    meta = dict(mmuniformer_version=mmuniformer.__version__, source=osp.abspath(args.src),
                config=args.config, scope=scope, model=type(model).__name__,
                converted_by='tools/convert_official.py', time=time.strftime('%Y%m%d_%H%M%S'))
    torch.save(dict(meta=meta, state_dict=state_dict), args.dst)
    print(f'saved {len(state_dict)} tensors ({sum(v.numel() for v in state_dict.values()) / 1e6:.2f} M '
          f'values) for {args.config} to {args.dst}')


if __name__ == '__main__':
    main()
