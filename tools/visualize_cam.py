"""Grad-CAM of a UniFormer image classifier on one image, drawn over the image.

    python tools/visualize_cam.py CONFIG CHECKPOINT IMAGE --out cam.png
        [--stage 1-4 | --layer NAME ...] [--target CLASS] [--alpha 0.5] [--cfg-options ...]

Default target layer: the stage-4 map the head pools (the backbone's output norm ``norm``
after the last block; the layer the paper's Figure 9 shows for LLGG, LLLL and GGGG);
``--stage N`` takes the last block of stage N < 4 (local stages 1-2 and global stage 3
alike: every block outputs a ``(B, C, H, W)`` map), ``--layer`` any module names (e.g.
``backbone.blocks3.7``), one panel each. The image goes through the config's test
pipeline; the explained class is the top-1 prediction unless ``--target`` is given. A band
above the panels names the class explained (``--classes`` FILE, else the checkpoint's
``dataset_meta``, else the config dataset's, else ``class i``) and its score.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import check_class_names, dataset_meta_from_config, read_class_names
from mmuniformer.libraries import BY_SCOPE
from mmuniformer.visualization import (default_target_layer, image_inputs, load_model,
                                       model_grad_cam, put_lines, read_image)




def overlay(picture: np.ndarray, cam: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """A ``(H, W)`` map in [0, 1] as a JET heat map over a BGR picture of the same size;
    ``alpha`` (the heat map's opacity) in [0, 1]."""
    if not 0. <= alpha <= 1.:
        raise ValueError(f'alpha (heat map opacity) must be in [0, 1], got {alpha:g}')
    heat = cv2.applyColorMap((cam * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return (picture * (1 - alpha) + heat * alpha).astype(np.uint8)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='mmpretrain classifier config')
    parser.add_argument('checkpoint', help='checkpoint of the whole model')
    parser.add_argument('image', help='input image')
    parser.add_argument('--out', required=True, help='output picture (.png / .jpg)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--stage', type=int, default=4,
                       help='stage explained (1-4): its last block, stage 4 its output norm')
    group.add_argument('--layer', nargs='+', help='module names to explain')
    parser.add_argument('--target', type=int, default=None, help='class (default: top-1)')
    parser.add_argument('--classes', help='class names, one per line (one per model class)')
    parser.add_argument('--alpha', type=float, default=0.5, help='heat map opacity')
    parser.add_argument('--min-side', type=int, default=224, help='enlarge small pictures')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Write the picture; returns ``layers``, ``cams`` (``(H, W)`` each), ``target``, ``logits``."""
    args = parse_args(argv)
    if not (np.isfinite(args.alpha) and 0. <= args.alpha <= 1.):
        raise SystemExit(f'--alpha (heat map opacity) must be in [0, 1], got {args.alpha:g}')
    if not 1 <= args.min_side <= 4096:
        raise SystemExit(f'--min-side must be in [1, 4096], got {args.min_side}')
    if args.layer is None and args.stage not in (1, 2, 3, 4):
        raise SystemExit(f'--stage must be 1, 2, 3 or 4, got {args.stage}')
    try:
        read_image(args.image)  # names the file if it is not a decodable image
        model, cfg, scope = load_model(args.config, args.checkpoint, args.cfg_options,
                                       args.device)
        if scope not in BY_SCOPE or BY_SCOPE[scope].task != 'cls':
            raise ValueError(f'visualize_cam.py explains image classifiers (mmpretrain configs); '
                             f'{args.config} is a {scope} config')
        names = class_names(model, cfg, args.classes)
        layers = args.layer or [default_target_layer(model, args.stage)]
        inputs, picture = image_inputs(model, cfg, args.image)
        cams, target, logits = model_grad_cam(model, inputs.to(args.device), layers, args.target)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
    scale = max(1, int(np.ceil(args.min_side / min(picture.shape[:2]))))
    size = (picture.shape[1] * scale, picture.shape[0] * scale)
    big = cv2.resize(picture, size, interpolation=cv2.INTER_LINEAR)
    panels = [big]
    for name, cam in zip(layers, cams):
        panel = overlay(big, cv2.resize(cam.cpu().numpy(), size, interpolation=cv2.INTER_LINEAR),
                        args.alpha)
        cv2.putText(panel, name.replace('backbone.', ''), (4, 16), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, (255, 255, 255), 1, cv2.LINE_AA)
        panels.append(panel)
    score = float(logits.softmax(-1)[target])
    title = f'Grad-CAM of {names[target]} (class {target}, p={score:.3f})'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, put_lines(np.concatenate(panels, axis=1), [title]))
    return dict(layers=layers, cams=cams, target=target, logits=logits, name=names[target],
                title=title)


def class_names(model: torch.nn.Module, cfg, classes_file: Optional[str]) -> List[str]:
    """``--classes`` (count checked), else the checkpoint's ``dataset_meta``, else the config
    dataset's, else ``class i``."""
    num = model.head.num_classes
    if classes_file:
        names = read_class_names(classes_file)
        check_class_names(names, model, f'--classes {classes_file}')
        return names
    for meta in (getattr(model, 'dataset_meta', None) or {}, dataset_meta_from_config(cfg)):
        if len(meta.get('classes') or ()) == num:
            return list(meta['classes'])
    return [f'class {i}' for i in range(num)]


if __name__ == '__main__':
    result = run()
    print(f"Grad-CAM of class {result['target']} at {result['layers']} written to "
          f'{parse_args().out}')
