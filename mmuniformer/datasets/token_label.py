"""Token-labeling data transforms (mmpretrain pipelines).

Label-map files (one per image, provided by the user, e.g. produced by a strong
annotator model as in LV-ViT / UniFormer token labeling):

* path: ``<label_root>/<image path relative to the dataset's data_prefix>`` with
  the image extension replaced by ``.npy`` or ``.pt``;
* content: an array of shape ``(2, k, h, w)``: ``[0]`` the top-k scores and
  ``[1]`` the matching class indices at every location of an ``h x w`` grid over
  the whole image (the official format), or a dense ``(num_classes, h, w)`` score
  map.

:class:`LoadTokenLabel` turns either into a dense ``(num_classes, h, w)`` map under
``results['token_label']``; :class:`TokenLabelRandomResizedCrop` crops and resizes
it together with the image to the head's token grid (7x7 at 224, 12x12 at 384);
:class:`TokenLabelFlip` mirrors it after ``RandomFlip``; pack it with
``dict(type='PackInputs', algorithm_keys=['token_label'])``.
"""
import math
import os.path as osp
from typing import Tuple

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop

from ..registry import TRANSFORMS


def dense_token_label(raw: np.ndarray, num_classes: int) -> np.ndarray:
    """``(2, k, h, w)`` top-k (scores, indices) or ``(num_classes, h, w)`` -> ``(num_classes, h, w)``."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.ndim == 4 and raw.shape[0] == 2:
        scores, index = raw[0], raw[1].astype(np.int64)
        if index.min() < 0 or index.max() >= num_classes:
            raise ValueError(f'token label class index out of range 0..{num_classes - 1}')
        dense = np.zeros((num_classes, ) + scores.shape[1:], np.float32)
        rows, cols = np.indices(scores.shape[1:])
        # add, not assign: a class listed twice at one location keeps all its score
        np.add.at(dense, (index, rows[None], cols[None]), scores)
        return dense
    if raw.ndim == 3 and raw.shape[0] == num_classes:
        return raw
    raise ValueError(f'token label must have shape (2, k, h, w) or ({num_classes}, h, w), '
                     f'got {raw.shape}')


@TRANSFORMS.register_module()
class LoadTokenLabel(BaseTransform):
    """Load the token-label map of ``results['img_path']``.

    Args:
        label_root: folder of label maps, mirroring the image folder tree.
        data_prefix: image root that ``img_path`` is relative to.
        num_classes: number of classes.
    """

    def __init__(self, label_root: str, data_prefix: str, num_classes: int) -> None:
        self.label_root = label_root
        self.data_prefix = data_prefix
        self.num_classes = num_classes

    def transform(self, results: dict) -> dict:
        rel = osp.splitext(osp.relpath(results['img_path'], self.data_prefix))[0]
        for ext in ('.npy', '.pt'):
            path = osp.join(self.label_root, rel + ext)
            if osp.exists(path):
                break
        else:
            raise FileNotFoundError(f'no token label for {results["img_path"]}: expected '
                                    f'{osp.join(self.label_root, rel)}.npy or .pt')
        raw = np.load(path) if path.endswith('.npy') else torch.load(path, map_location='cpu').numpy()
        results['token_label'] = dense_token_label(raw, self.num_classes)
        return results


def crop_resize_label(label: np.ndarray, box: Tuple[float, float, float, float], img_hw: Tuple[int, int],
                      out_size: Tuple[int, int]) -> np.ndarray:
    """Crop ``label`` ``(K, h, w)`` (covering an image of ``img_hw``) to the image box
    ``(y1, x1, y2, x2)`` and resize it to ``out_size`` (bilinear, area-consistent)."""
    k, h, w = label.shape
    y1, x1, y2, x2 = box
    sy, sx = h / img_hw[0], w / img_hw[1]
    t = torch.from_numpy(label)[None]
    # ny x nx bilinear samples per output cell, averaged (roi_align's adaptive sampling), so
    # that a cell spanning several label cells gets their mean
    ny = max(1, math.ceil((y2 - y1) * sy / out_size[0] - 1e-6))
    nx = max(1, math.ceil((x2 - x1) * sx / out_size[1] - 1e-6))
    # affine grid sampling of the box in normalised label coordinates
    ys = torch.linspace(y1 * sy, y2 * sy, out_size[0] * ny + 1)
    xs = torch.linspace(x1 * sx, x2 * sx, out_size[1] * nx + 1)
    yc = ((ys[:-1] + ys[1:]) / 2) / h * 2 - 1
    xc = ((xs[:-1] + xs[1:]) / 2) / w * 2 - 1
    grid = torch.stack(torch.meshgrid(yc, xc, indexing='ij')[::-1], dim=-1)[None]
    out = F.grid_sample(t, grid, mode='bilinear', padding_mode='border', align_corners=False)
    return F.avg_pool2d(out, (ny, nx))[0].numpy()


@TRANSFORMS.register_module()
class TokenLabelRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` that also crops ``results['token_label']``
    to the same box and resizes it to ``label_size`` (the head's token grid).

    Args:
        label_size: token grid ``(h, w)`` or int, e.g. 7 for 224 inputs.
        **kwargs: ``RandomResizedCrop`` arguments.
    """

    def __init__(self, label_size: int = 7, **kwargs) -> None:
        super().__init__(**kwargs)
        self.label_size = (label_size, label_size) if isinstance(label_size, int) else tuple(label_size)

    def transform(self, results: dict) -> dict:
        img = results['img']
        offset_h, offset_w, target_h, target_w = self.rand_crop_params(img)
        box = (offset_h, offset_w, offset_h + target_h, offset_w + target_w)
        label = results['token_label']
        results['token_label'] = crop_resize_label(label, box, img.shape[:2], self.label_size)
        results['img'] = img[offset_h:offset_h + target_h, offset_w:offset_w + target_w]
        results['img'] = mmcv.imresize(
            results['img'], tuple(self.scale[::-1]), interpolation=self.interpolation,
            backend=self.backend)
        results['img_shape'] = results['img'].shape
        return results


@TRANSFORMS.register_module()
class TokenLabelResize(BaseTransform):
    """Resize the whole ``results['token_label']`` map to ``label_size`` (evaluation
    or fine-tuning pipelines without random crops)."""

    def __init__(self, label_size: int = 7) -> None:
        self.label_size = (label_size, label_size) if isinstance(label_size, int) else tuple(label_size)

    def transform(self, results: dict) -> dict:
        label = results['token_label']
        results['token_label'] = crop_resize_label(label, (0, 0) + label.shape[1:], label.shape[1:],
                                                   self.label_size)
        return results


@TRANSFORMS.register_module()
class TokenLabelFlip(BaseTransform):
    """Mirror ``results['token_label']`` as ``RandomFlip`` (placed before it) mirrored the image."""

    def transform(self, results: dict) -> dict:
        if results.get('flip', False):
            axis = {'horizontal': 2, 'vertical': 1}.get(results.get('flip_direction', 'horizontal'))
            if axis is None:
                raise ValueError(f'unsupported flip direction {results.get("flip_direction")!r}')
            results['token_label'] = np.ascontiguousarray(np.flip(results['token_label'], axis))
        return results
