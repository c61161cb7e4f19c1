"""Inference helpers: the task libraries' inferencers built from mmuniformer configs."""
from .inference import (SCOPE_TASKS, BGRArrayInputs, build_inferencer, build_model,
                        check_checkpoint, check_class_names, checkpoint_dataset_meta,
                        config_task, dataset_meta_from_config, load_config,
                        model_num_classes, read_class_names, register_mmpretrain_models)

__all__ = ['SCOPE_TASKS', 'BGRArrayInputs', 'build_inferencer', 'build_model',
           'check_checkpoint', 'check_class_names', 'checkpoint_dataset_meta', 'config_task',
           'dataset_meta_from_config', 'load_config', 'model_num_classes', 'read_class_names',
           'register_mmpretrain_models']
