"""Print the parameters and FLOPs of the model a config builds (attention matmuls counted).

    python tools/analysis/flops.py CONFIG [--shape H W | --shape T H W] [--verbose]
        [--cfg-options KEY=VALUE ...]

FLOPs follow fvcore / mmengine.analysis (one fused multiply-add = one FLOP); every
UniFormer attention layer runs its explicit softmax path while counting, because the
fused ``scaled_dot_product_attention`` is invisible to the counter. The counted
forward is the one used at inference (``model(inputs, mode='tensor')`` for an
mmpretrain classifier); when a model cannot be traced whole (e.g. detectors needing
image metas), a smaller part (``extract_feat``, the backbone) is counted and the
output says so. The default input size comes from the config's test pipeline.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.analysis import analyze_model, find_uniformer, stage_breakdown
from mmuniformer.apis import build_model_from_config, input_shape_from_config

DEFAULT_SIZE = 224
DEFAULT_FRAMES = 8


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='input size: S (square), H W, or T H W for video '
                             '(default: the test pipeline crop, else 224)')
    parser.add_argument('--verbose', action='store_true',
                        help='per-stage breakdown and the forwards tried before the counted one')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def input_shape(args_shape: Optional[List[int]], cfg, ndim: int) -> Tuple[Tuple[int, ...], str]:
    """Spatial(-temporal) input size and where it came from."""
    frames, hw = input_shape_from_config(cfg)
    if args_shape:
        if len(args_shape) not in (1, 2, 3):
            raise SystemExit(f'--shape takes 1, 2 or 3 integers, got {args_shape}')
        size = tuple(args_shape) * 2 if len(args_shape) == 1 else tuple(args_shape)
        source = '--shape'
    else:
        size = hw or (DEFAULT_SIZE, DEFAULT_SIZE)
        source = 'test pipeline' if hw else f'default {DEFAULT_SIZE}'
    if ndim == 3 and len(size) == 2:
        size = (frames or DEFAULT_FRAMES, ) + size
        source += '' if frames else f' (T: default {DEFAULT_FRAMES})'
    if ndim == 2 and len(size) == 3:
        raise SystemExit(f'--shape T H W given but the model takes images (got {size})')
    return size, source


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    model, cfg, scope = build_model_from_config(args.config, args.cfg_options)
    model.eval()
    _, backbone = find_uniformer(model)
    ndim = getattr(backbone, 'ndim', 2)
    in_channels = getattr(backbone, 'in_channels', 3)
    size, source = input_shape(args.shape, cfg, ndim)
    x = torch.randn(1, in_channels, *size)
    report = analyze_model(model, x)
    res = report.complexity

    print(f'config:  {args.config}')
    print(f'model:   {type(model).__name__} (scope {scope})')
    print(f'input:   {tuple(x.shape)} (from {source})')
    print(f'counted: {report.forward}; parts: {" + ".join(res.called) or type(model).__name__}')
    if args.verbose:  # fuller forwards tried first (e.g. mmdet's needs image metas): expected
        for desc, err in report.failures:
            print(f'tried:   {desc}, not traceable here ({err})')
    print(f'Params:  {res.total_params / 1e6:.2f} M')
    if res.params != res.total_params:
        print(f'         ({res.params / 1e6:.2f} M in the counted forward; the rest is not used '
              'by it)')
    print(f'FLOPs:   {res.flops / 1e9:.2f} G (attention matmuls included; 1 multiply-add = 1 FLOP)')
    skipped = {k: v for k, v in res.unsupported.items()}
    if any('scaled_dot_product_attention' in k for k in skipped):
        print('warning: some fused attention was not counted: ' + ', '.join(skipped))
    if args.verbose:
        rows = stage_breakdown(model, res)
        width = max([len(r[0]) for r in rows] + [4])
        print()
        print(f'{"part":<{width}}  {"params (M)":>10}  {"FLOPs (G)":>10}')
        for name, params, flops in rows:
            print(f'{name:<{width}}  {params / 1e6:>10.3f}  {flops / 1e9:>10.3f}')
        if skipped:
            print(f'operators not counted: {skipped}')


if __name__ == '__main__':
    main()
