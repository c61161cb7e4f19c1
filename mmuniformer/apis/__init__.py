"""Inference helpers: the task libraries' inferencers built from mmuniformer configs, and
:func:`optimize` (folded, low-precision, optionally compiled inference models)."""
from .inference import (SCOPE_TASKS, build_inferencer, config_task, load_config,
                        register_mmpretrain_models)
from .optimize import auto_dtype, cpu_flags, matrix_units, optimize, resolve_dtype

__all__ = ['SCOPE_TASKS', 'build_inferencer', 'config_task', 'load_config',
           'register_mmpretrain_models', 'optimize', 'auto_dtype', 'cpu_flags', 'matrix_units',
           'resolve_dtype']
