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
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

import torch
from mmengine.logging import MMLogger
from mmengine.config import DictAction

try:
    import mmuniformer
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer
from mmuniformer.apis import build_model_from_config
from mmuniformer.checkpoint import SCOPES, convert_to_model


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
    if scope not in SCOPES:
        raise SystemExit(f'error: {args.config} has default_scope {scope!r}; the converter knows '
                         f'the models of {SCOPES[1:]}')
    # Official checkpoints hold tensors and plain metadata (numbers, strings; timm's saver adds
    # the training `args`, an argparse.Namespace): weights-only loading, that class allowed here.
    with torch.serialization.safe_globals([argparse.Namespace]):
        checkpoint = torch.load(args.src, map_location='cpu', weights_only=True)
    try:
        state_dict = convert_to_model(checkpoint, model, scope, logger)
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
