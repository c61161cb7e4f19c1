"""Inference helpers: the task libraries' inferencers built from mmuniformer configs."""
from .inference import (SCOPE_TASKS, build_inferencer, config_task, load_config,
                        register_mmpretrain_models)

__all__ = ['SCOPE_TASKS', 'build_inferencer', 'config_task', 'load_config',
           'register_mmpretrain_models']
