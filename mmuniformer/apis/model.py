"""Configs -> models: build the model of a config the way its library does, and read the
input size its test pipeline gives."""
import copy
import importlib
from typing import Any, List, Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config

from ..libraries import registry_module
from ..registry import check_model_config
from .inference import load_config


def _transforms(pipeline: Any) -> List[dict]:
    if not isinstance(pipeline, (list, tuple)):
        return []
    return [t for t in pipeline if isinstance(t, dict)]


def find_pipeline(cfg: Any) -> List[dict]:
    """The test (else val) pipeline of a config, looking through dataset wrappers."""
    def from_dataset(ds: Any) -> List[dict]:
        if not isinstance(ds, dict):
            return []
        if 'pipeline' in ds and _transforms(ds['pipeline']):
            return _transforms(ds['pipeline'])
        if 'dataset' in ds:
            return from_dataset(ds['dataset'])
        for sub in ds.get('datasets', []) or []:
            found = from_dataset(sub)
            if found:
                return found
        return []

    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) if hasattr(cfg, 'get') else None
        if isinstance(loader, dict):
            found = from_dataset(loader.get('dataset'))
            if found:
                return found
    for key in ('test_pipeline', 'val_pipeline'):
        found = _transforms(cfg.get(key)) if hasattr(cfg, 'get') else []
        if found:
            return found
    return []


def _wh_to_hw(size: Any) -> Optional[Tuple[int, int]]:
    """OpenMMLab transforms give sizes as an int or ``(w, h)``; -1 means "keep ratio"."""
    if isinstance(size, int) and size > 0:
        return size, size
    if isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        w, h = size
        if w <= 0 and h <= 0:
            return None
        return (h if h > 0 else w), (w if w > 0 else h)
    return None


def input_shape_from_config(cfg: Any) -> Tuple[Optional[int], Optional[Tuple[int, int]]]:
    """``(T, (H, W))`` of the test pipeline: ``T`` from a frame sampler's ``clip_len``,
    ``(H, W)`` from the last resize / crop / affine transform; None where not found."""
    t, hw = None, None
    for transform in find_pipeline(cfg):
        name = str(transform.get('type', '')).split('.')[-1]
        if name in ('SampleFrames', 'UniformSample', 'UniformSampleFrames', 'DenseSampleFrames'):
            if isinstance(transform.get('clip_len'), int):
                t = transform['clip_len']
        elif name in ('CenterCrop', 'ThreeCrop', 'TenCrop', 'RandomCrop'):
            hw = _wh_to_hw(transform.get('crop_size')) or hw
        elif name == 'TopdownAffine':
            hw = _wh_to_hw(transform.get('input_size')) or hw
        elif name in ('Resize', 'ResizeEdge'):
            hw = _wh_to_hw(transform.get('scale')) or hw
    return t, hw


def build_model_from_config(config: Union[str, Config], cfg_options: Optional[dict] = None
                            ) -> Tuple[nn.Module, Config, str]:
    """Build ``cfg.model`` the way the config's library does.

    Loads the config (running its ``custom_imports``), applies ``cfg_options``, sets
    the config's ``default_scope`` (mmengine's ``init_default_scope``), checks the model's
    unscoped type names against our registry (:func:`mmuniformer.registry.check_model_config`)
    and builds from that library's ``MODELS``, with the config's top-level
    ``data_preprocessor`` where the model names none (as mmengine's Runner does). Returns
    ``(model, cfg, scope)``.
    """
    from mmengine.registry import init_default_scope

    cfg = load_config(config, cfg_options)
    scope = cfg.get('default_scope', None) or 'mmengine'
    init_default_scope(scope)
    try:
        registry = importlib.import_module(registry_module(scope)).MODELS
    except KeyError:  # a scope we do not know: mmengine's root registry
        from mmengine.registry import MODELS as registry
    model_cfg = cfg.model
    if isinstance(model_cfg, dict) and cfg.get('data_preprocessor') is not None:
        # as mmengine's Runner builds it: the config's top-level data_preprocessor (mean/std,
        # BGR -> RGB) unless the model names its own
        model_cfg = copy.deepcopy(model_cfg)
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    check_model_config(model_cfg, registry)
    return registry.build(model_cfg), cfg, scope
