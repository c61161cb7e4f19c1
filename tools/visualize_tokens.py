"""Which tokens each hourglass block of a light UniFormer (XXS / XS) kept, drawn over the image.

    python tools/visualize_tokens.py CONFIG CHECKPOINT IMAGE --out tokens.png
        [--min-side 224] [--cfg-options ...]

One panel per shrinking hourglass block (stage 3 but its first block, and stage 4): the tokens
the block kept for attention are shown as they are, the ones it merged into its single
representative token are darkened; the grid is the block's token grid (stride 16 in stage 3,
32 in stage 4). The selection is read with forward pre-hooks (the block ranks the running
token scores it receives and keeps the ``int(N * keep_ratio)`` best), so the model runs
unchanged. The image goes through the config's test pipeline.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.visualization import image_inputs, load_model, record_kept_tokens


def draw_kept(picture: np.ndarray, mask: np.ndarray, dim: float = 0.25) -> np.ndarray:
    """Darken the cells of ``picture`` (BGR) where the ``(h, w)`` boolean ``mask`` is False
    and outline the kept cells."""
    height, width = picture.shape[:2]
    grid_h, grid_w = mask.shape
    cell = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    out = picture.astype(np.float32) * np.where(cell[..., None] > 0, 1.0, dim)
    out = out.astype(np.uint8)
    for r, c in zip(*np.nonzero(mask)):
        y1, y2 = r * height // grid_h, (r + 1) * height // grid_h - 1
        x1, x2 = c * width // grid_w, (c + 1) * width // grid_w - 1
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 255), 1)
    return out


def with_data_preprocessor(config: str, options: Optional[dict]) -> Optional[dict]:
    """``options`` plus ``model.data_preprocessor`` = the config's top-level
    ``data_preprocessor`` when the model names none, as mmengine's Runner builds the model
    (without it the image would reach the model unnormalised, in BGR order)."""
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    if cfg.get('data_preprocessor') and 'data_preprocessor' not in cfg.model:
        return {**(options or {}), 'model.data_preprocessor': cfg.data_preprocessor}
    return options


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='light UniFormer image classifier config (mmpretrain)')
    parser.add_argument('checkpoint', help='checkpoint of the whole model')
    parser.add_argument('image', help='input image')
    parser.add_argument('--out', required=True, help='output picture (.png / .jpg)')
    parser.add_argument('--min-side', type=int, default=224, help='enlarge small pictures')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Write the picture; returns ``records`` (one :class:`KeptTokens` per shrinking block)
    and ``logits``."""
    args = parse_args(argv)
    if not osp.isfile(args.image):
        raise SystemExit(f'image {args.image!r} is not a file')
    options = with_data_preprocessor(args.config, args.cfg_options)
    model, cfg, scope = load_model(args.config, args.checkpoint, options, args.device)
    if scope != 'mmpretrain':
        raise SystemExit(f'visualize_tokens.py takes image classifier configs (mmpretrain); '
                         f'{args.config} is a {scope} config')
    try:
        inputs, picture = image_inputs(model, cfg, args.image)
        with torch.no_grad(), record_kept_tokens(model) as records:
            logits = model(inputs.to(args.device), mode='tensor')
    except ValueError as err:
        raise SystemExit(str(err))
    scale = max(1, int(np.ceil(args.min_side / min(picture.shape[:2]))))
    big = cv2.resize(picture, (picture.shape[1] * scale, picture.shape[0] * scale),
                     interpolation=cv2.INTER_LINEAR)
    panels = [big]
    for rec in records:
        panel = draw_kept(big, rec.mask()[0].cpu().numpy())
        label = (f"{rec.name.replace('backbone.', '')}: {rec.kept.shape[1]}/"
                 f"{rec.scores.shape[1]}")
        cv2.putText(panel, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
        panels.append(panel)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, np.concatenate(panels, axis=1))
    return dict(records=list(records), logits=logits)


if __name__ == '__main__':
    result = run()
    print(f"kept tokens of {len(result['records'])} hourglass blocks written to "
          f'{parse_args().out}: ' + ', '.join(f'{r.name}: {r.kept.shape[1]}/{r.scores.shape[1]}'
                                              for r in result['records']))
