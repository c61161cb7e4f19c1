"""Repeated augmentation of one decoded clip (the released video recipes' ``AUG.NUM_SAMPLE``).

The official video datasets (``video_classification/slowfast/datasets/kinetics.py``,
``sth.py``, ``hmdb.py``) decode one clip per video and, with ``AUG.NUM_SAMPLE > 1``,
run the spatial augmentation on it ``NUM_SAMPLE`` times; the collate function
flattens the samples, so a batch of ``B`` videos holds ``B * NUM_SAMPLE`` clips.

:class:`RepeatAug` does the same inside an mmaction2 pipeline: the transforms before
it (decoder init, frame sampling, decoding) run once, the ``transforms`` it wraps run
``num_repeats`` times on copies, and it returns the list of packed samples. mmaction2's
``repeat_pseudo_collate`` flattens the lists of a batch. (mmaction2's own
``RepeatAugDataset`` draws new frame indices for every repeat and needs decord; the
release augments the same frames, with any decoder.)
"""
import copy
from typing import Callable, List, Optional, Sequence, Union

from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from ..registry import TRANSFORMS


@TRANSFORMS.register_module()
class RepeatAug(BaseTransform):
    """Run ``transforms`` ``num_repeats`` times on copies of one decoded sample.

    Use it as the last step of a training pipeline, wrapping the augmentation and
    packing steps, with ``collate_fn=dict(type='repeat_pseudo_collate')`` in the
    dataloader::

        pipeline = [DecordInit, SampleFrames, DecordDecode,
                    dict(type='mmuniformer.RepeatAug', num_repeats=2,
                         transforms=[Resize, ..., FormatShape, PackActionInputs])]

    Args:
        transforms: the per-repeat transforms (configs or callables).
        num_repeats: samples drawn from each decoded clip (the released
            ``AUG.NUM_SAMPLE``, 2); 1 gives ordinary training.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]], num_repeats: int = 2) -> None:
        if isinstance(num_repeats, bool) or not isinstance(num_repeats, int) or num_repeats < 1:
            raise ValueError(f'num_repeats must be a positive int, got {num_repeats!r}')
        if not transforms:
            raise ValueError('RepeatAug needs the transforms to repeat (at least the packing '
                             'step, e.g. PackActionInputs)')
        self.num_repeats = num_repeats
        self.transforms = Compose(list(transforms))

    def transform(self, results: dict) -> Optional[List[dict]]:
        """``results`` (decoded frames under ``imgs``) -> ``num_repeats`` outputs of
        ``transforms``, each from its own deep copy; None if a repeat is rejected."""
        outs = []
        for _ in range(self.num_repeats):
            out = self.transforms(copy.deepcopy(results))
            if out is None:
                return None
            outs.append(out)
        return outs

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_repeats={self.num_repeats}, '
                f'transforms={self.transforms})')
