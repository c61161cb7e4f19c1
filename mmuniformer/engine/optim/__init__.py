"""Optimizer wrappers and constructors of mmuniformer (``OPTIM_WRAPPERS``,
``OPTIM_WRAPPER_CONSTRUCTORS`` registries, scope ``mmuniformer``)."""
from .auto_amp import AutoAmpOptimWrapper, cpu_has_bf16_units
from .quiet_constructor import QuietOptimWrapperConstructor

__all__ = ['AutoAmpOptimWrapper', 'cpu_has_bf16_units', 'QuietOptimWrapperConstructor']
