"""Save the initial (untrained) weights of the model a config builds, as a checkpoint that
``mim test <lib> CONFIG --checkpoint OUT`` loads: the "untrained" baseline of the quick starts.

    python tools/misc/untrained_checkpoint.py CONFIG OUT.pth [--seed 0] [--cfg-options ...]

The model is built as its library builds it (the config's ``default_scope``) and initialised
with ``init_weights()`` after seeding, as ``mim train`` does before its first iteration. Its
``meta['dataset_meta']`` holds the config dataset's class names (palette for det / seg, keypoint
meta for pose), or those of ``--classes FILE`` (one per line, one per model class), as
``mim train`` would save them.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

import torch
from mmengine.config import DictAction
from mmengine.runner import set_random_seed

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import build_model_from_config, checkpoint_dataset_meta, load_config


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument('--classes', help='class names, one per line (default: the config '
                        "dataset's)")
    parser.add_argument('--seed', type=int, default=0, help='random seed of the initialisation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    set_random_seed(args.seed)
    model, _, scope = build_model_from_config(args.config, args.cfg_options)
    model.init_weights()
    state = model.state_dict()
    meta = dict(config=args.config, scope=scope, seed=args.seed, untrained=True)
    try:
        classes = checkpoint_dataset_meta(load_config(args.config, args.cfg_options), model,
                                          args.classes)
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    if classes:
        meta['dataset_meta'] = classes
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(dict(meta=meta, state_dict=state), args.out)
    print(f'saved the untrained {type(model).__name__} ({len(state)} tensors) to {args.out}')


if __name__ == '__main__':
    main()
