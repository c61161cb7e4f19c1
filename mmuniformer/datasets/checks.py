"""Checks of the data a config hands to an OpenMMLab library, made before the library meets
it, with errors that name the file, what it holds and what is accepted.

Without them, a COCO file with no images trains zero iterations per epoch or fails inside a
learning-rate scheduler or pycocotools, and segmentation labels outside the classes end in
torch's ``IndexError: Target 7 is out of bounds`` (CPU; a device-side assert on GPU) or,
in evaluation, are silently left out of the IoU histograms.

* :func:`check_coco_file`: the structure of a COCO annotation file.
* :class:`CheckSegLabels`: a pipeline step after mmseg's ``LoadAnnotations``.

:class:`mmuniformer.engine.hooks.CheckDatasetsHook` uses :func:`check_coco_file` to explain
an empty dataset.
"""
import json
import os.path as osp
from typing import Any, Dict, List

import numpy as np
from mmcv.transforms import BaseTransform

from ..registry import TRANSFORMS

#: keys of a COCO annotation file (each a list)
COCO_KEYS = ('images', 'annotations', 'categories')


def check_coco_file(path: str) -> Dict[str, int]:
    """Checks that ``path`` is a COCO annotation file with at least one image.

    Returns:
        the number of images, annotations and categories (keys of :data:`COCO_KEYS`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not JSON, not an object with the lists ``images``, ``annotations``,
            ``categories``, no images, or annotations whose ``image_id`` / ``category_id``
            name no listed image / category; the message names the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'COCO annotation file {path} does not exist')
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f'COCO annotation file {path} is not JSON ({err})') from None
    if not isinstance(coco, dict):
        raise ValueError(f'COCO annotation file {path} holds a JSON {type(coco).__name__}; '
                         f'accepted: an object with the lists {", ".join(COCO_KEYS)}')
    missing = [key for key in COCO_KEYS if not isinstance(coco.get(key), list)]
    if missing:
        raise ValueError(f'COCO annotation file {path} has no list {", ".join(missing)} '
                         f'(keys found: {sorted(coco)}); accepted: an object with the lists '
                         f'{", ".join(COCO_KEYS)}')
    counts = {key: len(coco[key]) for key in COCO_KEYS}
    if not coco['images']:
        raise ValueError(
            f'COCO annotation file {path} holds no images (its "images" list is empty, with '
            f'{counts["annotations"]} annotations and {counts["categories"]} categories); a '
            'dataset needs at least one image entry {"id", "file_name", "width", "height"}')
    image_ids = {img.get('id') for img in coco['images'] if isinstance(img, dict)}
    category_ids = {cat.get('id') for cat in coco['categories'] if isinstance(cat, dict)}
    for field, known, what in (('image_id', image_ids, 'images'),
                               ('category_id', category_ids, 'categories')):
        unknown = sorted({str(ann.get(field)) for ann in coco['annotations']
                          if not isinstance(ann, dict) or ann.get(field) not in known})
        if unknown:
            raise ValueError(
                f'COCO annotation file {path}: annotations name {field} {unknown[:5]}'
                f'{" ..." if len(unknown) > 5 else ""} that are not among its {len(known)} '
                f'{what}')
    return counts


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Checks the labels of ``results['gt_seg_map']`` (after mmseg's ``LoadAnnotations``,
    i.e. after ``reduce_zero_label`` and ``label_map``): every pixel must be a class index in
    ``[0, num_classes)`` or ``ignore_index``. Put it right after ``LoadAnnotations``::

        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='mmuniformer.CheckSegLabels', num_classes=num_classes),

    Args:
        num_classes: the classes of the decode head, > 0.
        ignore_index: the label that losses and metrics skip (mmseg's default 255).

    Raises:
        ValueError: at construction for bad arguments; in the pipeline, naming the mask file,
            the labels found outside the accepted ones and the accepted ones.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'CheckSegLabels: num_classes must be an int > 0, got '
                             f'{num_classes!r}')
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise ValueError(f'CheckSegLabels: ignore_index must be an int, got '
                             f'{ignore_index!r}')
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Returns ``results`` unchanged when the labels (an (H, W) int array) are valid."""
        if 'gt_seg_map' not in results:
            raise ValueError('CheckSegLabels: no gt_seg_map in the sample; put it after '
                             "LoadAnnotations in the pipeline")
        labels = np.asarray(results['gt_seg_map'])
        bad = ((labels < 0) | (labels >= self.num_classes)) & (labels != self.ignore_index)
        if bad.any():
            found = np.unique(labels[bad])
            shown = ', '.join(str(v) for v in found[:10]) + (' ...' if len(found) > 10 else '')
            raise ValueError(
                f'{results.get("seg_map_path", "segmentation mask")}: labels {shown} in '
                f'{int(bad.sum())} pixels are outside the {self.num_classes} classes '
                f'0..{self.num_classes - 1} and ignore_index {self.ignore_index} '
                f'(reduce_zero_label={results.get("reduce_zero_label", False)}: a file label '
                'v becomes v - 1 and 0 becomes ignore_index); check the classes of the dataset '
                'and the head, or the mask files')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


__all__: List[str] = ['check_coco_file', 'CheckSegLabels']
