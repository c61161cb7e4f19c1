"""Inference helpers and configs -> models: the task libraries' inferencers built from
mmuniformer configs, any config's model built the way its library does, and :func:`optimize`
(folded, low-precision, optionally compiled inference models)."""
from .inference import (SCOPE_TASKS, BGRArrayInputs, build_inferencer, build_model,
                        check_checkpoint, check_class_names, checkpoint_dataset_meta,
                        config_library, config_task, dataset_meta_from_config, load_config,
                        model_num_classes, read_class_names, register_mmpretrain_models)
from .model import build_model_from_config, find_pipeline, input_shape_from_config
from .optimize import auto_dtype, cpu_flags, matrix_units, optimize, resolve_dtype

__all__ = ['SCOPE_TASKS', 'BGRArrayInputs', 'build_inferencer', 'build_model',
           'check_checkpoint', 'check_class_names', 'checkpoint_dataset_meta', 'config_library',
           'config_task', 'dataset_meta_from_config', 'load_config', 'model_num_classes',
           'read_class_names', 'register_mmpretrain_models', 'build_model_from_config',
           'find_pipeline', 'input_shape_from_config', 'optimize', 'auto_dtype', 'cpu_flags',
           'matrix_units', 'resolve_dtype']
