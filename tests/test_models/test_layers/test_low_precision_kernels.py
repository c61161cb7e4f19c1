"""The inference kernels in bfloat16 / float16 and under autocast: the fused local-block
and MLP paths run (call counters), agree with the plain path under the same precision and
with float32, compute their folds once per dtype and parameter state; float32 attention
(the light models' ``_fp32`` variants) returns to the projection's dtype; a training step
under bf16 autocast gives float32's gradients within bf16 precision."""
from typing import List

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.models.backbones import UniFormer
from mmuniformer.models.layers import Attention, LocalBlock, Mlp
from tests.conftest import randomise_bn
from tests.harness import count_fused_local_calls

LOW = [torch.bfloat16, torch.float16]


def _block(ndim: int = 2, layer_scale: float = 0.5) -> LocalBlock:
    torch.manual_seed(0)
    block = randomise_bn(LocalBlock(16, mlp_ratio=3, layer_scale=layer_scale, ndim=ndim)).eval()
    with torch.no_grad():
        for name, p in block.named_parameters():
            if name.endswith('bias'):
                p.normal_(0, 0.1)
    return block


def _input(ndim: int, size: int = 12) -> torch.Tensor:
    fmt = torch.channels_last if ndim == 2 else torch.channels_last_3d
    return torch.randn(2, 16, *([3] * (ndim - 2)), size, size).contiguous(memory_format=fmt)


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return F.cosine_similarity(a.float().flatten(), b.float().flatten(), dim=0).item()


def _counters(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    return count_fused_local_calls(monkeypatch)


@pytest.mark.parametrize('ndim', [2, 3])
@pytest.mark.parametrize('dtype', LOW)
def test_local_block_under_autocast(monkeypatch: pytest.MonkeyPatch, ndim: int,
                                    dtype: torch.dtype) -> None:
    """Under autocast the fused path runs in autocast's dtype; it matches the plain path under
    the same autocast (where autograd records) and float32."""
    block, x = _block(ndim), _input(ndim)
    with torch.no_grad():
        ref = block(x)
    with torch.enable_grad(), torch.autocast('cpu', dtype=dtype):
        plain = block(x)
    calls = _counters(monkeypatch)
    with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
        fast = block(x)
        block(x)
    assert calls == [2, 1]  # two fused calls, one fold
    assert fast.dtype == dtype and fast.shape == ref.shape
    assert fast.is_contiguous(memory_format=torch.channels_last if ndim == 2
                              else torch.channels_last_3d)
    tol = 2e-2 if dtype == torch.bfloat16 else 4e-3
    torch.testing.assert_close(fast.float(), plain.float(), rtol=tol, atol=tol)
    torch.testing.assert_close(fast.float(), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize('dtype', LOW)
def test_local_block_with_low_precision_weights(monkeypatch: pytest.MonkeyPatch,
                                                dtype: torch.dtype) -> None:
    block, x = _block(), _input(2, size=96)  # 2 x 96 x 96 rows: the oneDNN linears for bf16
    with torch.no_grad():
        ref = block(x)
    low = _block().to(dtype)
    calls = _counters(monkeypatch)
    with torch.no_grad():
        fast = low(x.to(dtype))
    assert calls == [1, 1] and fast.dtype == dtype
    assert _cos(fast, ref) > 0.9999
    torch.testing.assert_close(fast.float(), ref, rtol=5e-2, atol=5e-2)


def test_folds_follow_parameter_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached folds are reused while the parameters stay, recomputed after an in-place
    update (optimizer step, load_state_dict) and kept per dtype."""
    block, x = _block(), _input(2)
    calls = _counters(monkeypatch)
    with torch.no_grad():
        block(x)
        block(x)
        assert calls[1] == 1
        with torch.autocast('cpu', dtype=torch.bfloat16):
            block(x)
        assert calls[1] == 2  # another dtype
        block.conv1.weight.mul_(2)  # an in-place update, as an optimizer step
        block.norm2.running_mean.add_(1)
        fast = block(x)
        assert calls[1] == 3
    with torch.enable_grad():
        plain = block(x)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)


def test_frozen_folds_ignore_later_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    block, x = _block(), _input(2)
    with torch.no_grad():
        before = block(x)
        block.freeze_inference(torch.float32)
        block.conv1.weight.mul_(2)
        calls = _counters(monkeypatch)
        torch.testing.assert_close(block(x), before)
    assert calls == [1, 0]


@pytest.mark.parametrize('dtype', LOW)
def test_mlp_in_low_precision(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    mlp = Mlp(32, 96).eval()
    x = torch.randn(2, 50, 32)
    with torch.no_grad():
        ref = mlp.fc2(F.gelu(mlp.fc1(x)))
        with torch.autocast('cpu', dtype=dtype):
            fast = mlp(x)
        assert fast.dtype == dtype and _cos(fast, ref) > 0.9999
        assert mlp._weights(dtype)[0] is mlp._weights(dtype)[0]  # cast once
        low = mlp.to(dtype)
        assert _cos(low(x.to(dtype)), ref) > 0.9999


@pytest.mark.parametrize('use_sdpa', [True, False])
def test_fp32_attention_with_low_precision_weights(use_sdpa: bool) -> None:
    """``fp32`` attention computes softmax(q k^T) v in float32 and hands the projection its
    own dtype (bf16 weights, or autocast)."""
    torch.manual_seed(0)
    attn = Attention(32, 2, use_sdpa=use_sdpa, fp32=True).eval()
    x = torch.randn(2, 10, 32)
    with torch.no_grad():
        ref, ref_row = attn(x, return_first_row=True)
        low = Attention(32, 2, use_sdpa=use_sdpa, fp32=True).eval()
        low.load_state_dict(attn.state_dict())
        low.to(torch.bfloat16)
        out, row = low(x.to(torch.bfloat16), return_first_row=True)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            auto, _ = attn(x, return_first_row=True)
    assert out.dtype == torch.bfloat16 and row.dtype == torch.float32
    assert auto.dtype == torch.bfloat16
    assert _cos(out, ref) > 0.999 and _cos(auto, ref) > 0.999
    torch.testing.assert_close(row, ref_row, rtol=2e-2, atol=2e-3)


def test_training_step_under_bf16_autocast_matches_fp32(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A backbone's loss and gradients under bf16 autocast (the path AMP training on a
    CPU with bf16 units takes: explicit attention product, local depthwise convolution in
    float32) agree with float32 (fused attention)."""
    sdpa_calls, depthwise_dtypes = [0], []
    sdpa = F.scaled_dot_product_attention

    def counted_sdpa(*args, **kwargs):
        sdpa_calls[0] += 1
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', counted_sdpa)
    torch.manual_seed(0)
    model = UniFormer(dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16,
                           layer_scale_stages=(0, 1, 2, 3)), layer_scale_init=0.1)
    head = nn.Linear(128, 5)
    x, y = torch.randn(4, 3, 64, 64), torch.tensor([0, 1, 2, 3])
    params = list(model.parameters()) + list(head.parameters())

    def grads(autocast: bool) -> List[torch.Tensor]:
        for p in params:
            p.grad = None
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(head(model(x)[0].mean((2, 3))).float(), y)
        loss.backward()
        return [loss.detach()] + [p.grad.clone() for p in params]

    for block in model.modules():
        if isinstance(block, LocalBlock):
            block.attn.register_forward_hook(
                lambda mod, inp, out: depthwise_dtypes.append(out.dtype))
    ref = grads(False)
    assert sdpa_calls[0] == 3  # fp32: the fused attention in each global block
    low = grads(True)
    assert sdpa_calls[0] == 3 and depthwise_dtypes == [torch.float32] * 4
    assert abs(low[0] - ref[0]) < 2e-2 * ref[0]
    flat_ref = torch.cat([g.flatten() for g in ref[1:]])
    flat_low = torch.cat([g.flatten() for g in low[1:]])
    assert _cos(flat_low, flat_ref) > 0.995
