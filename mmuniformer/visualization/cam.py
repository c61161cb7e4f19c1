"""Grad-CAM (Selvaraju et al., ICCV 2017) for UniFormer classifiers and recognisers.

Every UniFormer block, local (MHRA with a depth-wise relation) or global (self-attention),
takes and returns a channels-first map ``(B, C, H, W)`` (video ``(B, C, T, H, W)``; the light
models' hourglass blocks return ``(map, score token, scores)``), so the same rule serves any
stage: Grad-CAM over the map a block outputs. The default target is the last stage's map as
the head sees it (after the output norm), the layer the paper's Figure 9 compares across
LLGG / LLLL / GGGG.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..libraries import class_logits
from ..models.backbones.base import find_uniformer


def uniformer_backbone(model: nn.Module) -> Tuple[str, nn.Module]:
    """``(name, module)`` of the UniFormer backbone inside ``model`` (``patch_embed1`` +
    ``blocks1``); raises if there is none."""
    name, module = find_uniformer(model)
    if module is not None:
        return name, module
    raise ValueError(f'{type(model).__name__} has no UniFormer backbone '
                     '(a module with patch_embed1 and blocks1)')


def default_target_layer(model: nn.Module, stage: int = 4) -> str:
    """Name of the map of ``stage`` (1-4) that Grad-CAM explains by default.

    Stage 4 of a backbone with an output norm (the classification BatchNorm ``norm``,
    ``out_norm='bn'``, or the dense LayerNorm ``norm4``): that norm, the map the head pools
    (before it, the norm's shift carries part of every logit and the class evidence can be
    negative everywhere). Otherwise the last block of the stage.
    """
    if stage not in (1, 2, 3, 4):
        raise ValueError(f'stage must be 1, 2, 3 or 4, got {stage}')
    name, backbone = uniformer_backbone(model)
    prefix = f'{name}.' if name else ''
    norm = {'bn': 'norm', 'ln': f'norm{stage}'}.get(getattr(backbone, 'out_norm', None))
    if norm and isinstance(getattr(backbone, norm, None), nn.Module) and (
            stage == 4 or norm != 'norm'):
        return prefix + norm
    blocks = getattr(backbone, f'blocks{stage}')
    if len(blocks) == 0:
        raise ValueError(f'stage {stage} of this backbone has no blocks')
    return f'{prefix}blocks{stage}.{len(blocks) - 1}'


def _first_tensor(out: object) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise TypeError(f'the target layer returned {type(out).__name__}, not a feature map')


@contextlib.contextmanager
def record_activations(model: nn.Module,
                       layers: Sequence[str]) -> Iterator[Dict[str, torch.Tensor]]:
    """Within the context, the yielded dict holds the output map of each layer in ``layers``
    (module names) from the latest forward, with its gradient retained."""
    modules = dict(model.named_modules())
    missing = [n for n in layers if n not in modules]
    if missing:
        raise ValueError(f'no module named {missing} in {type(model).__name__}; blocks are '
                         "named like 'backbone.blocks4.2'")
    store: Dict[str, torch.Tensor] = {}

    def make_hook(name: str):
        def hook(_module: nn.Module, _inputs: tuple, out: object) -> None:
            act = _first_tensor(out)
            if act.requires_grad:
                act.retain_grad()
            store[name] = act
        return hook

    handles = [modules[n].register_forward_hook(make_hook(n)) for n in layers]
    try:
        yield store
    finally:
        for handle in handles:
            handle.remove()


def grad_cam(activation: torch.Tensor, grad: torch.Tensor,
             size: Optional[Sequence[int]] = None) -> torch.Tensor:
    """Grad-CAM of one map: ``relu(sum_c mean(grad_c) * A_c)``, min-max normalised to [0, 1].

    Args:
        activation: ``(B, C, *S)`` with ``S`` = ``(H, W)`` or ``(T, H, W)``.
        grad: gradient of the target score w.r.t. ``activation``, same shape.
        size: output ``(H, W)`` (bilinear; each frame for video); default ``S``.

    Returns:
        ``(B, *S')`` in [0, 1] (an all-zero map stays zero).
    """
    if activation.shape != grad.shape or activation.dim() not in (4, 5):
        raise ValueError(f'activation {tuple(activation.shape)} and gradient '
                         f'{tuple(grad.shape)} must be equal (B, C, H, W) or (B, C, T, H, W)')
    weights = grad.flatten(2).mean(dim=2)  # (B, C)
    shape = (weights.shape[0], weights.shape[1]) + (1, ) * (activation.dim() - 2)
    cam = F.relu((weights.view(shape) * activation).sum(dim=1))  # (B, *S)
    if size is not None:
        if cam.dim() == 3:
            cam = F.interpolate(cam[:, None], size=tuple(size), mode='bilinear',
                                align_corners=False)[:, 0]
        else:
            b, t = cam.shape[:2]
            cam = F.interpolate(cam.flatten(0, 1)[:, None], size=tuple(size), mode='bilinear',
                                align_corners=False)[:, 0].view(b, t, *size)
    flat = cam.flatten(1)
    low, high = flat.min(dim=1, keepdim=True)[0], flat.max(dim=1, keepdim=True)[0]
    flat = (flat - low) / (high - low).clamp_min(1e-12)
    return flat.view(cam.shape)


def model_grad_cam(model: nn.Module, inputs: torch.Tensor, layers: Sequence[str],
                   target: Optional[int] = None) -> Tuple[List[torch.Tensor], int, torch.Tensor]:
    """Grad-CAM of ``target`` (default: the top-1 class) at each of ``layers``.

    Args:
        model: classifier / recogniser in eval mode.
        inputs: one preprocessed input ``(1, 3, H, W)`` or ``(1, 3, T, H, W)``.
        layers: module names (see :func:`default_target_layer`).
        target: class index.

    Returns:
        ``(cams, target, logits)``: one ``(H, W)`` (video ``(T', H, W)``) map in [0, 1] per
        layer at the input's spatial size, the class explained, the logits ``(K,)``.
    """
    if inputs.shape[0] != 1:
        raise ValueError(f'explain one input at a time, got a batch of {inputs.shape[0]}')
    model.zero_grad(set_to_none=True)
    with torch.enable_grad(), record_activations(model, layers) as acts:
        inputs = inputs.detach().requires_grad_(True)  # activations need grad in frozen parts
        logits = class_logits(model, inputs)[0]
        num = logits.shape[0]
        target = int(logits.argmax()) if target is None else target
        if not 0 <= target < num:
            raise ValueError(f'target class {target} is not in [0, {num})')
        logits[target].backward()
    cams = [grad_cam(acts[n].detach(), acts[n].grad, inputs.shape[-2:])[0] for n in layers]
    return cams, target, logits.detach()
