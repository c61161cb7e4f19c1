"""mmengine 0.10 checkpoints under torch >= 2.6's weights-only loading.

torch 2.6 made ``torch.load(weights_only=True)`` the default. Checkpoints written by
mmengine 0.10.7's runner hold its message hub: ``HistoryBuffer`` objects (numpy arrays
and scalars inside) and a ``statistics_methods`` dict pickled as
``getattr(HistoryBuffer, 'min')`` etc. The weights-only unpickler refuses these, so
``mim test --checkpoint`` and ``--resume`` fail on checkpoints that mmengine itself wrote.

:func:`allow_mmengine_checkpoints` allow-lists exactly those globals with
``torch.serialization.add_safe_globals``. ``getattr`` is not allowed as such: the
pickle's ``builtins.getattr`` resolves to :func:`history_buffer_getattr`, which only
returns the registered statistics of ``HistoryBuffer`` and refuses anything else, so
weights-only loading keeps refusing arbitrary calls.
"""
import logging
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

SafeGlobal = Union[Callable, Tuple[Callable, str]]
#: the statistics every HistoryBuffer registers (``HistoryBuffer._set_default_statistics``)
DEFAULT_STATISTICS = ('current', 'max', 'mean', 'min')


def history_buffer_getattr(obj: Any, name: str) -> Callable:
    """``getattr`` as mmengine's message hub pickles it: only ``HistoryBuffer``'s
    statistics methods (``min``, ``max``, ``current``, ``mean`` and registered ones)."""
    allowed = set(DEFAULT_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights-only load: getattr({obj!r}, {name!r}) is not allowed (mmuniformer allows only '
        f'the HistoryBuffer statistics {sorted(allowed)})')


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """The globals of an mmengine 0.10.7 runner checkpoint besides tensors, as listed by
    ``torch.serialization.get_unsafe_globals_in_checkpoint``, plus the numpy dtype classes
    of the arrays that the runner copies into ``meta['dataset_meta']`` (mmpose's COCO
    metainfo: ``uint8`` keypoint/skeleton colours, ``float32`` OKS sigmas and weights)."""
    multiarray = np.core.multiarray
    return [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
            type(np.dtype(np.float64)), type(np.dtype(np.int64)),
            type(np.dtype(np.float32)), type(np.dtype(np.uint8)),
            (history_buffer_getattr, 'builtins.getattr')]


def _needs_allowlist() -> bool:
    version = tuple(int(v) for v in torch.__version__.split('+')[0].split('.')[:2])
    return version >= (2, 6) and hasattr(torch.serialization, 'add_safe_globals')


def allow_mmengine_checkpoints() -> bool:
    """Allow-list :func:`mmengine_checkpoint_globals` for weights-only loading, once per
    process and only on torch >= 2.6. Returns True when this call added them."""
    if not _needs_allowlist() or HistoryBuffer in torch.serialization.get_safe_globals():
        return False
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    print_log('mmuniformer: allow-listed mmengine HistoryBuffer, numpy arrays/scalars and '
              'HistoryBuffer statistics for torch.load(weights_only=True)', logger='current',
              level=logging.DEBUG)
    return True
