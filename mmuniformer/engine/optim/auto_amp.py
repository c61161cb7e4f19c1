"""Mixed precision that runs on any machine: mmengine's ``AmpOptimWrapper`` on accelerators,
bf16 autocast or float32 on a CPU-only machine."""
import logging
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Union

import torch
import torch.nn as nn
from mmengine.device import (is_cuda_available, is_mlu_available, is_musa_available,
                             is_npu_available)
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from ...hardware import cpu_has_bf16_units
from ...registry import OPTIM_WRAPPERS

def has_accelerator() -> bool:
    """Whether mmengine's ``AmpOptimWrapper`` can run here (CUDA, NPU, MLU or MUSA device)."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


@OPTIM_WRAPPERS.register_module()
class AutoAmpOptimWrapper(AmpOptimWrapper):
    """:class:`mmengine.optim.AmpOptimWrapper` that also trains on a CPU-only machine.

    Same arguments as the parent. With a CUDA (or NPU, MLU, MUSA) device it *is* the parent:
    same gradient scaler, same autocast dtype, same checkpoint state. On a CPU-only machine,
    where the parent refuses to start, it logs one warning and runs

    - bf16 autocast (``torch.autocast('cpu', torch.bfloat16)``) of the backbone, its outputs
      handed on in float32 (:func:`autocast_backbone`), when the CPU has bf16 units
      (:func:`cpu_has_bf16_units`); bf16 keeps float32's exponent range, so no loss scaling;
    - plain float32 (no autocast, no scaler) otherwise, or when ``dtype`` asks for
      ``float32``/``float64``.

    The configs of the release's mixed-precision runs therefore train unchanged anywhere.
    A checkpoint saved on a GPU resumes on the CPU (its scaler state is dropped) and vice versa.

    Args:
        loss_scale: GradScaler set-up for accelerators (see the parent); unused on CPU.
        dtype: autocast dtype on accelerators: ``'float16'``, ``'bfloat16'``, ``'float32'``,
            ``'float64'``, a ``torch.dtype`` or None (the device default).
        use_fsdp: ``ShardedGradScaler`` for FSDP on accelerators (see the parent).
        **kwargs: passed to :class:`mmengine.optim.OptimWrapper` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None, use_fsdp: bool = False,
                 **kwargs) -> None:
        #: the CPU autocast dtype (``torch.bfloat16`` or None for float32); unused on accelerators
        self.cpu_dtype: Optional[torch.dtype] = None
        self.on_cpu = not has_accelerator()
        if not self.on_cpu:
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'AutoAmpOptimWrapper: dtype={dtype!r} is not accepted; '
                                 f'accepted: {", ".join(self.valid_dtypes)}, a torch.dtype or None')
            dtype = getattr(torch, dtype)
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise ValueError(f'AutoAmpOptimWrapper: dtype={dtype!r} is not accepted; accepted: '
                             f'{", ".join(self.valid_dtypes)}, a torch.dtype or None')
        # mmengine's AmpOptimWrapper.__init__ asserts an accelerator: set up the plain wrapper.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = None
        self.cast_dtype = dtype
        if dtype in (torch.float32, torch.float64):
            how = f'{dtype} as configured (no autocast)'
        elif cpu_has_bf16_units():
            self.cpu_dtype = torch.bfloat16
            how = 'bf16 autocast of the backbone (the CPU has bf16 units; no loss scaling)'
        else:
            how = 'float32 (the CPU has no bf16 units; no autocast)'
        print_log(f'AutoAmpOptimWrapper: no GPU, training on the CPU in {how}', logger='current',
                  level=logging.WARNING)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Back-propagate ``loss``: through the gradient scaler on accelerators, plainly on CPU."""
        if self.on_cpu:
            OptimWrapper.backward(self, loss, **kwargs)
        else:
            super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        """Optimizer step: through the gradient scaler on accelerators, plainly on CPU."""
        if self.on_cpu:
            OptimWrapper.step(self, **kwargs)
        else:
            super().step(**kwargs)

    def state_dict(self) -> dict:
        """The optimizer's state, plus the scaler's (``loss_scaler``) on accelerators."""
        return OptimWrapper.state_dict(self) if self.on_cpu else super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        """Load an optimizer state; on CPU a GPU run's ``loss_scaler`` entry is ignored."""
        if not self.on_cpu:
            super().load_state_dict(state_dict)
            return
        state_dict = {k: v for k, v in state_dict.items() if k != 'loss_scaler'}
        OptimWrapper.load_state_dict(self, state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """The parent's autocast context on accelerators; on CPU bf16 autocast of the backbone
        (see :func:`autocast_backbone`) or none."""
        if not self.on_cpu:
            with super().optim_context(model):
                yield
            return
        with OptimWrapper.optim_context(self, model), autocast_backbone(
                getattr(model, 'module', model), enabled=self.cpu_dtype is not None):
            yield


def _to_float32(out: Any) -> Any:
    """``out`` (a tensor or nested tuples / lists / dicts of them) with bf16 tensors in float32."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.dtype == torch.bfloat16 else out
    if isinstance(out, (tuple, list)):
        return type(out)(_to_float32(o) for o in out)
    if isinstance(out, dict):
        return {k: _to_float32(v) for k, v in out.items()}
    return out


@contextmanager
def autocast_backbone(model: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Run ``model.backbone`` (the whole ``model`` if it has none) under CPU bf16 autocast and
    hand its outputs on in float32, for the duration of the context.

    The backbone is where the time goes; necks and heads stay in float32 because the task
    libraries' CPU code has no bf16 path (mmcv's RoIAlign and NMS kernels dispatch float and
    half only; mmaction2 and mmpretrain compute accuracies through NumPy, which has no bf16).
    The module's ``forward`` is wrapped for the context only and restored afterwards;
    gradient checkpointing (``with_cp``) recomputes under the same autocast state.
    """
    if not enabled:
        yield
        return
    target = getattr(model, 'backbone', None)
    target = target if isinstance(target, nn.Module) else model
    own = target.__dict__.get('forward')  # normally None: the class's forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = own(*args, **kwargs) if own else type(target).forward(target, *args, **kwargs)
        return _to_float32(out)

    target.forward = forward
    try:
        yield
    finally:
        if own is None:
            del target.forward
        else:
            target.forward = own
