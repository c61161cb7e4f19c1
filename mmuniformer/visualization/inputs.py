"""Build a model from a config + checkpoint and turn one image into its input."""
from typing import Any, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn


def load_model(config: str, checkpoint: Optional[str], cfg_options: Optional[dict] = None,
               device: str = 'cpu') -> Tuple[nn.Module, Any, str]:
    """``(model, cfg, scope)``: the config's model (its library's registry, its
    ``data_preprocessor``) with ``checkpoint`` loaded strictly (read weights-only; a file
    that does not fit is refused with what it is and the converter command), in eval mode.
    The checkpoint's ``meta['dataset_meta']`` (class names) becomes ``model.dataset_meta``,
    as mmengine's runner sets it."""
    from ..apis import build_model_from_config
    from ..checkpoint import describe_misfit, load_checkpoint_file, unwrap_state_dict
    model, cfg, scope = build_model_from_config(config, cfg_options)
    if checkpoint:
        loaded = load_checkpoint_file(checkpoint)
        problem = describe_misfit(loaded, model, scope, checkpoint)
        if problem:
            raise ValueError(f'checkpoint {checkpoint!r} does not fit the model of {config}:\n'
                             + problem.replace('--config CONFIG', f'--config {config}'))
        model.load_state_dict(unwrap_state_dict(loaded), strict=False)  # fit checked above
        meta = loaded.get('meta') if isinstance(loaded.get('meta'), dict) else {}
        if meta.get('dataset_meta'):
            model.dataset_meta = dict(meta['dataset_meta'])
    return model.to(device).eval(), cfg, scope


def image_inputs(model: nn.Module, cfg: Any, path: str) -> Tuple[torch.Tensor, np.ndarray]:
    """Run the config's test pipeline on the image ``path`` and the model's data
    preprocessor: ``(inputs (1, 3, H, W), picture (H, W, 3) uint8 BGR)``, the picture being
    the pipeline's output (resized / cropped) before normalisation."""
    from mmengine.dataset import Compose, pseudo_collate

    from ..apis import find_pipeline
    pipeline = find_pipeline(cfg)
    if not pipeline:
        raise ValueError('the config has no test / val pipeline to prepare the image with')
    data = Compose(pipeline)(dict(img_path=path))
    pixels = data['inputs']
    if not isinstance(pixels, torch.Tensor) or pixels.dim() != 3:
        raise ValueError(f'expected an image pipeline packing (3, H, W) inputs, got '
                         f'{getattr(pixels, "shape", type(pixels))}')
    picture = pixels.permute(1, 2, 0).numpy().astype(np.uint8)
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    inputs = batch['inputs']
    return inputs, picture if picture.shape[2] == 3 else picture[..., :3]
