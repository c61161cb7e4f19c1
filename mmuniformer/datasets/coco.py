"""mmdet's ``CocoDataset`` with its annotation file checked before mmdet reads it.

mmdet builds a dataset of a COCO file with no images (or whose images its ``filter_cfg`` drops
all) and mmengine then stops in ``BaseDataset._serialize_data`` with ``ValueError: need at
least one array to concatenate``, naming neither the file nor the cause.
"""
from typing import List

from mmdet.datasets import CocoDataset as MMDetCocoDataset

from ..registry import DATASETS
from .checks import check_coco_file


@DATASETS.register_module()
class CocoDataset(MMDetCocoDataset):
    """:class:`mmdet.datasets.CocoDataset` (same arguments) that checks its annotation file
    with :func:`~mmuniformer.datasets.checks.check_coco_file` before loading it and refuses to
    end up empty. Use it as ``type='mmuniformer.CocoDataset'``.

    Raises:
        FileNotFoundError, ValueError: naming the annotation file and what is wrong with it
            (not JSON, no images, annotations of unknown images or categories), or that
            ``filter_cfg`` left none of its images.
    """

    def load_data_list(self) -> List[dict]:
        check_coco_file(self.ann_file)
        return super().load_data_list()

    def filter_data(self) -> List[dict]:
        kept = super().filter_data()
        if not kept:
            raise ValueError(
                f'COCO annotation file {self.ann_file}: none of its {len(self.data_list)} images '
                f'is left after filter_cfg={self.filter_cfg!r} (images without annotations of '
                f'the classes {tuple(self.metainfo.get("classes", ()))} are dropped with '
                'filter_empty_gt=True, images smaller than min_size too); check the classes '
                'in metainfo against the file\'s categories')
        return kept
