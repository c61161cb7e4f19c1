"""Token-labeling data transforms (mmpretrain pipelines), following the released
token-labeling code of UniFormer (Sense-X/UniFormer, image_classification/
token_labeling/tlt, itself from LV-ViT's TokenLabeling).

Label-map files (one per training image, produced by an annotator model; the
official ones come from NFNet-F6):

* path: ``<label_root>/<image path relative to the dataset's data_prefix>`` with
  the image extension replaced by ``.npy`` or ``.pt``;
* content: ``(2, k, h, w)``: ``[0]`` the annotator's top-k scores *before softmax*
  and ``[1]`` their class indices, at every cell of an ``h x w`` grid over the whole
  image (the official format), or a dense ``(num_classes, h, w)`` score map.

Pipeline, in the official order (tlt/data/label_transforms_factory.py):

1. :class:`LoadTokenLabel` scatters the top-k scores into a dense
   ``(num_classes, h, w)`` score map (classes outside the top-k score 0), as
   ``get_featuremaps`` in tlt/data/mixup.py;
2. ``RandomFlip`` + :class:`TokenLabelFlip` mirror image and map;
3. ``RandAugment`` whose geometric ops are :class:`TokenLabelRotate`,
   :class:`TokenLabelShear` and :class:`TokenLabelTranslate`: the map is warped
   with the image's own affine matrix (nearest cell, cells from outside the image
   score 0), as tlt/data/random_augment_label.py;
4. :class:`TokenLabelRandomResizedCrop` crops the image and turns the map into the
   training targets (``get_label`` in tlt/data/mixup.py): ``token_label``
   ``(num_classes, s, s)`` = softmax over classes of the RoI-aligned crop of the
   score map at the head's token grid ``s x s``, and ``token_label_cls``
   ``(num_classes, )`` = softmax of the same crop RoI-aligned to ``1 x 1``;
5. ``PackInputs(algorithm_keys=['token_label', 'token_label_cls'])``.

Label smoothing (``on * p + off``) is applied by the head.
"""
import os.path as osp
from typing import Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop, Rotate, Shear, Translate

from ..registry import TRANSFORMS
from ..validation import check_bool, check_positive_int


def dense_token_label(raw: np.ndarray, num_classes: int) -> np.ndarray:
    """``(2, k, h, w)`` top-k (scores, indices) or ``(num_classes, h, w)`` -> ``(num_classes, h, w)``.

    Classes outside a cell's top-k get score 0 (the official ``get_featuremaps``).
    """
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
    """Load the token-label map of ``results['img_path']`` as a dense score map
    ``results['token_label']`` ``(num_classes, h, w)``.

    Args:
        label_root: folder of label maps, mirroring the image folder tree.
        data_prefix: image root that ``img_path`` is relative to.
        num_classes: number of classes.
    """

    def __init__(self, label_root: str, data_prefix: str, num_classes: int) -> None:
        check_positive_int(num_classes=num_classes)
        for name, value in (('label_root', label_root), ('data_prefix', data_prefix)):
            if not isinstance(value, str):
                raise TypeError(f'{name} must be a folder path (str), got {value!r}')
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
        raw = (np.load(path, allow_pickle=False) if path.endswith('.npy')
               else torch.load(path, map_location='cpu', weights_only=True).numpy())
        results['token_label'] = dense_token_label(raw, self.num_classes)
        return results


# --------------------------------------------------------------------------- targets
def token_label_targets(label: np.ndarray, box: Tuple[float, float, float, float],
                        img_hw: Tuple[int, int], out_size: Tuple[int, int],
                        official_box_order: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Training targets of the image crop ``box`` ``(y1, x1, y2, x2)`` (pixels of an
    image of size ``img_hw``) from the score map ``label`` ``(K, h, w)`` over it.

    As ``get_label`` in the official tlt/data/mixup.py: the box, as fractions of the
    image times the map size minus 0.5, is RoI-aligned (``aligned=False``, adaptive
    sampling) to ``out_size`` and to ``1 x 1``; each is softmaxed over classes.

    Args:
        official_box_order: hand the box to RoI-align as the released code does,
            ``(y1, x1, y2, x2)`` where RoI-align reads ``(x1, y1, x2, y2)``, i.e. the
            crop mirrored about the map's diagonal. Default: the crop's own region.

    Returns:
        ``(K, *out_size)`` token targets and ``(K, )`` crop target, each summing to 1.
    """
    from mmcv.ops import roi_align
    k, h, w = label.shape
    y1, x1, y2, x2 = box
    fy1, fx1, fy2, fx2 = y1 / img_hw[0], x1 / img_hw[1], y2 / img_hw[0], x2 / img_hw[1]
    if official_box_order:
        # the released code scales every coordinate by the map width (its maps are square)
        roi = [fy1 * w, fx1 * w, fy2 * w, fx2 * w]
    else:
        roi = [fx1 * w, fy1 * h, fx2 * w, fy2 * h]
    rois = torch.tensor([[0.0] + [v - 0.5 for v in roi]], dtype=torch.float32)
    t = torch.from_numpy(np.ascontiguousarray(label, dtype=np.float32))[None]
    tokens = roi_align(t, rois, tuple(out_size), 1.0, 0, 'avg', False)[0]
    crop = roi_align(t, rois, (1, 1), 1.0, 0, 'avg', False)[0, :, 0, 0]
    return tokens.softmax(0).numpy(), crop.softmax(0).numpy()


def _size_pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``label_size`` as ``(h, w)``: an int or two, each >= 1."""
    pair = (size, size) if isinstance(size, int) else size
    if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or
            not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in pair)):
        raise ValueError(f'label_size takes a positive int or (h, w) of positive ints, '
                         f'got {size!r}')
    return tuple(pair)


def _score_map(results: dict, name: str) -> np.ndarray:
    if 'token_label' not in results:
        raise KeyError(f'{name} needs the score map results["token_label"]: put '
                       'mmuniformer.LoadTokenLabel earlier in the pipeline')
    return results['token_label']


@TRANSFORMS.register_module()
class TokenLabelRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` that also turns ``results['token_label']``
    (the score map over the whole image) into the targets of the crop:
    ``token_label`` ``(K, *label_size)`` and ``token_label_cls`` ``(K, )``
    (see :func:`token_label_targets`).

    Args:
        label_size: token grid ``(h, w)`` or int: the last stage's grid, e.g. 7 for
            224 inputs, 12 for 384.
        official_box_order: see :func:`token_label_targets`.
        **kwargs: ``RandomResizedCrop`` arguments.
    """

    def __init__(self, label_size: Union[int, Sequence[int]] = 7,
                 official_box_order: bool = False, **kwargs) -> None:
        self.label_size = _size_pair(label_size)
        check_bool(official_box_order=official_box_order)
        super().__init__(**kwargs)
        self.official_box_order = official_box_order

    def transform(self, results: dict) -> dict:
        img = results['img']
        offset_h, offset_w, target_h, target_w = self.rand_crop_params(img)
        box = (offset_h, offset_w, offset_h + target_h, offset_w + target_w)
        results['token_label'], results['token_label_cls'] = token_label_targets(
            _score_map(results, type(self).__name__), box, img.shape[:2], self.label_size,
            self.official_box_order)
        results['img'] = img[offset_h:offset_h + target_h, offset_w:offset_w + target_w]
        results['img'] = mmcv.imresize(
            results['img'], tuple(self.scale[::-1]), interpolation=self.interpolation,
            backend=self.backend)
        results['img_shape'] = results['img'].shape
        return results


@TRANSFORMS.register_module()
class TokenLabelResize(BaseTransform):
    """Targets of the whole image (no crop): ``token_label`` ``(K, *label_size)`` and
    ``token_label_cls`` ``(K, )`` from the score map, as :class:`TokenLabelRandomResizedCrop`
    with the full-image box."""

    def __init__(self, label_size: Union[int, Sequence[int]] = 7) -> None:
        self.label_size = _size_pair(label_size)

    def transform(self, results: dict) -> dict:
        label = _score_map(results, type(self).__name__)
        hw = label.shape[1:]
        results['token_label'], results['token_label_cls'] = token_label_targets(
            label, (0, 0) + hw, hw, self.label_size)
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


# --------------------------------------------------------------------------- geometric RandAugment
def warp_token_label(label: np.ndarray, matrix: np.ndarray, img_hw: Tuple[int, int]) -> np.ndarray:
    """Warp the map ``label`` ``(K, h, w)`` over an image of size ``img_hw`` with the
    image warp ``matrix`` (2x3, cv2 ``warpAffine`` convention: source pixel -> output
    pixel, pixel centres at integers).

    Each output cell takes the source cell under its centre (nearest, as the official
    ``affine_label``); cells whose source lies outside the image score 0 in every class.
    """
    k, h, w = label.shape
    img_h, img_w = img_hw
    inv = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
    ys = (np.arange(h) + 0.5) * img_h / h - 0.5
    xs = (np.arange(w) + 0.5) * img_w / w - 0.5
    gx, gy = np.meshgrid(xs, ys)
    sx = inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2]
    sy = inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2]
    cx = np.floor((sx + 0.5) * w / img_w).astype(np.int64)
    cy = np.floor((sy + 0.5) * h / img_h).astype(np.int64)
    inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
    out = label[:, np.clip(cy, 0, h - 1), np.clip(cx, 0, w - 1)]
    return np.where(inside[None], out, 0).astype(label.dtype)


class _LabelAwareWarp:
    """Mixin for mmpretrain's geometric RandAugment ops: the op draws its magnitude as it
    does alone, warps the image, and ``results['token_label']`` is warped with the same
    affine matrix (:func:`warp_token_label`). Subclasses define
    ``_warp(img, magnitude) -> (warped image, 2x3 matrix)``."""

    def transform(self, results: dict) -> dict:
        if self.random_disable():
            return results
        fixed = self.angle if hasattr(self, 'angle') else self.magnitude
        magnitude = self.random_negative(fixed if fixed is not None else self.random_magnitude())
        img = results['img']
        warped, matrix = self._warp(img, magnitude)
        results['img'] = warped.astype(img.dtype)
        if 'token_label' in results:
            results['token_label'] = warp_token_label(results['token_label'],
                                                      np.asarray(matrix, np.float64), img.shape[:2])
        return results


@TRANSFORMS.register_module()
class TokenLabelRotate(_LabelAwareWarp, Rotate):
    """mmpretrain ``Rotate`` that rotates ``results['token_label']`` with the image
    (same angle and centre). Arguments as ``Rotate``."""

    def _warp(self, img: np.ndarray, angle: float) -> Tuple[np.ndarray, np.ndarray]:
        h, w = img.shape[:2]
        center = self.center if self.center is not None else ((w - 1) * 0.5, (h - 1) * 0.5)
        out = mmcv.imrotate(img, angle, center=center, scale=self.scale,
                            border_value=self.pad_val, interpolation=self.interpolation)
        # mmcv.imrotate's own matrix (positive angle = clockwise)
        return out, cv2.getRotationMatrix2D(tuple(center), -angle, self.scale)


@TRANSFORMS.register_module()
class TokenLabelShear(_LabelAwareWarp, Shear):
    """mmpretrain ``Shear`` that shears ``results['token_label']`` with the image
    (same magnitude and direction). Arguments as ``Shear``."""

    def _warp(self, img: np.ndarray, m: float) -> Tuple[np.ndarray, np.ndarray]:
        out = mmcv.imshear(img, m, direction=self.direction, border_value=self.pad_val,
                           interpolation=self.interpolation)
        # mmcv.imshear's matrix: x' = x + m * y (horizontal), y' = y + m * x (vertical)
        return out, [[1, m, 0], [0, 1, 0]] if self.direction == 'horizontal' else [[1, 0, 0],
                                                                                    [m, 1, 0]]


@TRANSFORMS.register_module()
class TokenLabelTranslate(_LabelAwareWarp, Translate):
    """mmpretrain ``Translate`` that shifts ``results['token_label']`` with the image
    (same offset, a fraction ``magnitude`` of the image size). Arguments as ``Translate``."""

    def _warp(self, img: np.ndarray, m: float) -> Tuple[np.ndarray, np.ndarray]:
        h, w = img.shape[:2]
        offset = m * (w if self.direction == 'horizontal' else h)
        out = mmcv.imtranslate(img, offset, direction=self.direction, border_value=self.pad_val,
                               interpolation=self.interpolation)
        return out, ([[1, 0, offset], [0, 1, 0]] if self.direction == 'horizontal'
                     else [[1, 0, 0], [0, 1, offset]])

