"""Inference helpers and configs -> models: the task libraries' inferencers built from
mmuniformer configs, and any config's model built the way its library does."""
from .inference import (SCOPE_TASKS, build_inferencer, config_library, config_task, load_config,
                        register_mmpretrain_models)
from .model import build_model_from_config, find_pipeline, input_shape_from_config

__all__ = ['SCOPE_TASKS', 'build_inferencer', 'config_library', 'config_task', 'load_config',
           'register_mmpretrain_models', 'build_model_from_config', 'find_pipeline',
           'input_shape_from_config']
