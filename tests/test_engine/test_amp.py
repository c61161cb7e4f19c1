"""Mixed precision: bf16 autocast training of the quick-start models (image and video) on
CPU, and the light models' float32 attention (``attn_fp32``) under autocast.

The quick-start models are built from their configs with the libraries' registries and
trained on a fixed, learnable batch of random tensors (a per-class pattern plus noise):
100 optimizer steps of the config's optimizer, every loss finite, the loss falling, and
the linear layers really running in bfloat16.
"""
from typing import Callable, List, Tuple

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.apis import build_model_from_config
from mmuniformer.models.backbones import UniFormerLight

QUICKSTART = 'projects/quickstart/configs/'
STEPS = 100


def _batch(shape: Tuple[int, ...], num_classes: int, seed: int = 0
           ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(B, *shape[1:])`` inputs whose class is readable (one random pattern per class,
    plus noise), and their labels ``(B,)``."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(shape[0]) % num_classes
    patterns = torch.randn((num_classes, ) + tuple(shape[1:]), generator=g)
    return patterns[labels] + 0.5 * torch.randn(shape, generator=g), labels


def _train_bf16(config: str, shape: Tuple[int, ...], make_samples: Callable,
                add_clip_axis: bool) -> Tuple[List[float], List[torch.dtype]]:
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(0)
    model, cfg, _ = build_model_from_config(QUICKSTART + config)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    num_classes = cfg.num_classes
    x, labels = _batch(shape, num_classes)
    inputs = x.unsqueeze(1) if add_clip_axis else x  # mmaction2: (B, num_clips, C, T, H, W)
    samples = make_samples(labels)
    seen: List[torch.dtype] = []
    linear = next(m for m in model.backbone.modules() if isinstance(m, nn.Linear))
    hook = linear.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    losses = []
    for _ in range(STEPS):
        if add_clip_axis:
            # mmaction2's heads log top-k accuracy through numpy, which has no bfloat16:
            # backbone and neck under autocast, the classifier in float32
            with torch.autocast('cpu', dtype=torch.bfloat16):
                feats, kwargs = model.extract_feat(inputs, stage='neck', data_samples=samples)
            loss, _ = model.parse_losses(model.cls_head.loss(feats.float(), samples, **kwargs))
        else:
            with torch.autocast('cpu', dtype=torch.bfloat16):
                loss, _ = model.parse_losses(model(inputs, samples, mode='loss'))
        optim.update_params(loss)
        losses.append(loss.item())
    hook.remove()
    return losses, seen


def _check(losses: List[float], seen: List[torch.dtype], num_classes: int) -> None:
    assert len(losses) == STEPS
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert set(seen) == {torch.bfloat16}, seen
    # untrained: about ln K; after 100 steps on one learnable batch: well below
    assert losses[0] > 0.5 * torch.log(torch.tensor(float(num_classes))).item()
    assert sum(losses[-10:]) / 10 < 0.5 * losses[0], (losses[0], losses[-10:])


def test_bf16_image_quickstart() -> None:
    from mmpretrain.structures import DataSample
    losses, seen = _train_bf16('uniformer_tiny_shapes.py', (8, 3, 32, 32),
                               lambda y: [DataSample().set_gt_label(int(v)) for v in y], False)
    _check(losses, seen, 8)


def test_bf16_video_quickstart() -> None:
    from mmaction.structures import ActionDataSample
    losses, seen = _train_bf16('uniformer_tiny_motion.py', (8, 3, 4, 32, 32),
                               lambda y: [ActionDataSample().set_gt_label(int(v)) for v in y], True)
    _check(losses, seen, 8)


@pytest.mark.parametrize('attn_fp32', [True, False])
@pytest.mark.parametrize('use_sdpa', [True, False])
def test_light_attention_fp32_under_autocast(monkeypatch, attn_fp32: bool, use_sdpa: bool) -> None:
    """``attn_fp32`` computes ``softmax(q k^T) v`` and the score row from float32 q, k, v
    under bf16 autocast (the projections stay bf16); without it everything is bf16."""
    arch = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
    torch.manual_seed(0)
    model = UniFormerLight(arch, ndim=3, attn_fp32=attn_fp32, use_sdpa=use_sdpa)
    with torch.no_grad():
        model.cls_token.normal_()
    dtypes: List[torch.dtype] = []
    sdpa, matmul = F.scaled_dot_product_attention, torch.Tensor.__matmul__

    def spy_sdpa(q, k, v, **kwargs):
        dtypes.append(q.dtype)
        return sdpa(q, k, v, **kwargs)

    def spy_matmul(a, b):
        out = matmul(a, b)
        if a.dim() == 4:  # (B, heads, N, d) attention products only
            dtypes.append(out.dtype)
        return out
    monkeypatch.setattr(F, 'scaled_dot_product_attention', spy_sdpa)
    monkeypatch.setattr(torch.Tensor, '__matmul__', spy_matmul)
    qkv_out: List[torch.dtype] = []
    model.blocks3[1].attn.qkv.register_forward_hook(lambda m, i, o: qkv_out.append(o.dtype))
    x = torch.randn(2, 3, 4, 64, 64)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model(x)
    # 3 hourglass blocks: attention (and the score row) per block
    assert len(dtypes) >= 3
    assert set(dtypes) == {torch.float32 if attn_fp32 else torch.bfloat16}, dtypes
    assert qkv_out == [torch.bfloat16]
    assert all(torch.isfinite(o.float()).all() for o in outs)
