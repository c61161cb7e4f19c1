"""An optimizer wrapper constructor that logs its per-parameter settings as one summary line."""
import logging
from collections import Counter
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from ...registry import OPTIM_WRAPPER_CONSTRUCTORS

#: how mmengine's DefaultOptimWrapperConstructor starts each per-parameter line
PARAMWISE_PREFIX = 'paramwise_options -- '


class _ParamwiseCounter(logging.Filter):
    """Drops mmengine's per-parameter ``paramwise_options`` lines, counting their settings."""

    def __init__(self) -> None:
        super().__init__()
        self.settings: Counter = Counter()
        self.params: set = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(PARAMWISE_PREFIX):
            return True
        name, _, setting = message[len(PARAMWISE_PREFIX):].rpartition(':')
        self.params.add(name)
        self.settings[setting] += 1
        return False


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class QuietOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's :class:`~mmengine.optim.DefaultOptimWrapperConstructor` (same arguments and
    parameter groups) that logs the ``paramwise_cfg`` settings as one summary line, e.g.
    ``paramwise_cfg: 88 of 251 parameter tensors set: weight_decay=0.0 (88)``, instead of
    one INFO line per parameter and setting (264 lines for Mask R-CNN UniFormer-S).

    Use it as ``optim_wrapper=dict(constructor='mmuniformer.QuietOptimWrapperConstructor',
    ...)``. Only the current run's logger is filtered, and only while the optimizer is built.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        logger = MMLogger.get_current_instance()
        counter = _ParamwiseCounter()
        logger.addFilter(counter)
        try:
            optim_wrapper = super().__call__(model)
        finally:
            logger.removeFilter(counter)
        if counter.params:
            module = getattr(model, 'module', model)  # as the parent: unwrap DDP
            total = sum(1 for p in module.parameters() if p.requires_grad)
            settings = ', '.join(f'{s} ({n})' for s, n in sorted(counter.settings.items()))
            print_log(f'paramwise_cfg: {len(counter.params)} of {total} parameter tensors set: '
                      f'{settings}', logger=logger)
        return optim_wrapper
