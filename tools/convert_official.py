"""Convert an official UniFormer checkpoint into an mmengine checkpoint for a config.

    python tools/convert_official.py SRC.pth DST.pth --config CONFIG [--cfg-options ...]

SRC is an official release: image ones as ``{'model': state_dict}`` (token-labeling
ones also carry ``aux_head``), video ones as ``{'model_state': state_dict}`` (SlowFast)
or ``{'model': ...}`` with 5-D kernels; checkpoints already converted for mmaction2's
built-in UniFormer (``backbone.`` + official keys, ``cls_head.fc_cls.*``) pass too.
Keys are mapped with the rows of :data:`mmuniformer.checkpoint.KEY_RULES` for the library
of the config's ``default_scope`` (e.g. the official classifier ``head.*`` goes to
``head.fc.*`` in mmpretrain classifiers and to ``cls_head.fc_cls.*`` in mmaction2
recognizers; the dense releases' ``keypoint_head.*`` to mmpose's ``head.*``; checkpoints of
mmpose 1.x's ``projects/uniformer`` pass too, and the pose releases' unused stage 1-3
LayerNorms are dropped when the config returns stage 4 only). The result is
checked against the model CONFIG builds: every model key must be present with the
same shape and no checkpoint key may be left over, otherwise a ``ValueError`` lists
the keys. DST is ``{'meta': {...}, 'state_dict': ...}``, loadable by
``mim test <lib> CONFIG --checkpoint DST``. ImageNet (2-D) weights for a video model
are not converted here: give them to the backbone's
``init_cfg=dict(type='Pretrained', checkpoint=...)``, which inflates them.

The checkpoint's ``meta['dataset_meta']`` holds the class names (and palette for det / seg,
the keypoint meta for pose) of the config's dataset (ImageNet-1k, COCO, ADE20K, COCO
keypoints, ...) or of ``--classes FILE`` (one name per line, one per model class; needed for
the video datasets, whose mmaction2 classes read labels as numbers, e.g. mmaction2's
``tools/data/kinetics/label_map_k400.txt``), so that demos and inferencers draw the right
names. SRC is read weights-only and checked; DST may not be SRC; a SRC that this project wrote
(this tool, ``mim train``, ``untrained_checkpoint.py``) and that fits the config's model is
reported as converted and nothing is written.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

import torch
from mmengine.config import DictAction
from mmengine.logging import MMLogger

try:
    import mmuniformer
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer
from mmuniformer.apis import build_model, checkpoint_dataset_meta, load_config
from mmuniformer.checkpoint import (SCOPES, convert_to_model, describe_misfit, fit_state_dict,
                                    is_official_layout, load_checkpoint_file, unwrap_state_dict)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--config', required=True, help='config of the target model')
    parser.add_argument('--classes', help='class names, one per line (default: the config '
                        "dataset's)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)

    if osp.abspath(args.src) == osp.abspath(args.dst) or (
            osp.exists(args.src) and osp.exists(args.dst) and osp.samefile(args.src, args.dst)):
        raise SystemExit(f'error: DST {args.dst!r} is SRC: the converter never overwrites its '
                         'source; give another output file')
    logger = MMLogger.get_instance('convert_official', log_level='INFO')
    cfg = load_config(args.config, args.cfg_options)
    scope = cfg.get('default_scope')
    if scope not in SCOPES[1:]:
        raise SystemExit(f'error: {args.config} has default_scope {scope!r}; the converter knows '
                         f'the models of {SCOPES[1:]}')
    model = build_model(cfg)
    try:
        meta_classes = checkpoint_dataset_meta(cfg, model, args.classes)
        checkpoint = load_checkpoint_file(args.src)
        state = unwrap_state_dict(checkpoint)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
    src_meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
    ours = any(k in src_meta for k in ('converted_by', 'untrained', 'cfg', 'mmuniformer_version'))
    if ours and not fit_state_dict(state, model.state_dict()):
        print(f'{args.src} is already converted: it fits the model of {args.config} as it is '
              f'({len(state)} tensors); nothing to do, {args.dst} not written')
        return
    try:
        state_dict = convert_to_model(checkpoint, model, scope, logger)
    except ValueError as err:
        if not is_official_layout(state):  # one of ours, for another model: say which
            err = describe_misfit(checkpoint, model, scope, args.src) or err
        print(f'error: {args.src} does not fit {args.config}:\n{err}', file=sys.stderr)
        raise SystemExit(1)
    meta = dict(mmuniformer_version=mmuniformer.__version__, source=osp.abspath(args.src),
                config=args.config, scope=scope, model=type(model).__name__,
                converted_by='tools/convert_official.py', time=time.strftime('%Y%m%d_%H%M%S'))
    if meta_classes:
        meta['dataset_meta'] = meta_classes
    else:
        print(f'note: no class names for {args.config} (its dataset names none): pass '
              '--classes FILE to store them', file=sys.stderr)
    torch.save(dict(meta=meta, state_dict=state_dict), args.dst)
    values = sum(v.numel() for v in state_dict.values()) / 1e6
    print(f'saved {len(state_dict)} tensors ({values:.2f} M values) for {args.config} to '
          f'{args.dst}'
          + (f" with {len(meta_classes['classes'])} class names" if meta_classes.get('classes')
             else ''))


if __name__ == '__main__':
    main()
