"""A hook that stops a run on an empty dataset with an error that says why."""
import os.path as osp
from typing import Any, Optional

from mmengine.hooks import Hook

from mmuniformer.datasets.checks import check_coco_file
from mmuniformer.registry import HOOKS


def _describe(dataset: Any) -> str:
    """What a dataset reads: its type and its annotation file / data root and prefix."""
    parts = [type(dataset).__name__]
    for attr in ('ann_file', 'data_root', 'data_prefix'):
        value = getattr(dataset, attr, None)
        if value:
            parts.append(f'{attr}={value!r}')
    return ' '.join(parts)


def check_dataset(dataset: Any, split: str) -> None:
    """Raises ``ValueError`` if ``dataset`` (of the dataloader ``split``) holds no samples,
    saying why where it can: a COCO file's problems (:func:`check_coco_file`), or that the
    dataset's ``filter_cfg`` dropped every image."""
    if len(dataset) > 0:
        return
    ann_file: Optional[str] = getattr(dataset, 'ann_file', None)
    reason = 'no samples'
    if ann_file and str(ann_file).endswith('.json') and osp.isfile(ann_file):
        try:
            counts = check_coco_file(ann_file)
        except ValueError as err:
            reason = str(err)
        else:
            filter_cfg = getattr(dataset, 'filter_cfg', None)
            reason = (f'no samples: its {counts["images"]} images were all dropped '
                      f'(filter_cfg={filter_cfg!r}: images without annotations of the '
                      'classes, or smaller than min_size, are left out)')
    raise ValueError(f'{split}_dataloader.dataset ({_describe(dataset)}) holds {reason}'
                     if reason.startswith('no samples') else
                     f'{split}_dataloader.dataset ({_describe(dataset)}): {reason}')


@HOOKS.register_module()
class CheckDatasetsHook(Hook):
    """Stops a run whose training, validation or test dataset is empty, before the library
    fails on it, naming the dataset's files and why (see :func:`check_dataset`)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        check_dataset(runner.train_dataloader.dataset, 'train')

    def before_val(self, runner) -> None:
        check_dataset(runner.val_dataloader.dataset, 'val')

    def before_test(self, runner) -> None:
        check_dataset(runner.test_dataloader.dataset, 'test')


