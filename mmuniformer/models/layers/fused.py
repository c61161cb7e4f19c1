"""The one switch between the layers' fused kernels and their plain, explicit paths.

As timm's ``fused_attn``: every layer with a faster computation of the same function has a
boolean ``fused`` attribute (True by default) and a class attribute ``fused_kind`` saying
which kernel it is:

* ``'attention'``: :class:`~mmuniformer.models.layers.Attention` runs
  ``F.scaled_dot_product_attention``; unfused, the explicit ``softmax(q k^T * scale) v``
  (what FLOP counters and exporters see, the reference the tests compare against);
* ``'inference'``: the local blocks and token MLPs run the folded / fused inference kernels of
  :mod:`mmuniformer.models.layers.inference` where they apply (evaluation without autograd);
  unfused, always the training path.

:func:`set_fused` sets the flags of a whole model, :func:`fused_kernels` within a context.
"""
import contextlib
from typing import Iterator, List, Optional

import torch.nn as nn

FUSED_KINDS = ('attention', 'inference')


def fused_layers(model: nn.Module, kind: Optional[str] = None) -> List[nn.Module]:
    """The modules of ``model`` that have a fused path (of ``kind``; None: any)."""
    if kind is not None and kind not in FUSED_KINDS:
        raise ValueError(f'kind must be one of {FUSED_KINDS} or None (all), got {kind!r}')
    return [m for m in model.modules() if isinstance(getattr(m, 'fused', None), bool)
            and getattr(m, 'fused_kind', None) in ((kind, ) if kind else FUSED_KINDS)]


def set_fused(model: nn.Module, enabled: bool, kind: Optional[str] = None) -> int:
    """Set ``fused`` of every layer of ``model`` (of ``kind``; None: all) to ``enabled``;
    returns how many were set."""
    if not isinstance(enabled, bool):
        raise TypeError(f'enabled must be a bool, got {enabled!r}')
    layers = fused_layers(model, kind)
    for layer in layers:
        layer.fused = enabled
    return len(layers)


@contextlib.contextmanager
def fused_kernels(model: nn.Module, enabled: bool = False,
                  kind: Optional[str] = None) -> Iterator[int]:
    """Within the context, the layers of ``model`` (of ``kind``; None: all) run fused or
    not as ``enabled`` says (default: the explicit, plain paths); yields how many layers
    were switched and restores every flag on exit."""
    layers = fused_layers(model, kind)
    saved = [layer.fused for layer in layers]
    try:
        set_fused(model, enabled, kind)
        yield len(layers)
    finally:
        for layer, flag in zip(layers, saved):
            layer.fused = flag
