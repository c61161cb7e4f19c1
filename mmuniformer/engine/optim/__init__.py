"""Optimizer wrappers of mmuniformer (``OPTIM_WRAPPERS`` registry, scope ``mmuniformer``)."""
from .auto_amp import AutoAmpOptimWrapper, cpu_has_bf16_units

__all__ = ['AutoAmpOptimWrapper', 'cpu_has_bf16_units']
