"""The inference kernels (:mod:`mmuniformer.models.layers.inference`) compute the blocks'
own functions: checked against hand computations of each fold and against the plain
(training) path of whole blocks and backbones, and they stay out of autograd, training,
channels-first inputs and tracing (low precision and autocast:
``tests/test_models/test_layers/test_low_precision_kernels.py``)."""
from typing import List

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.models.layers import fused_kernels
from mmuniformer.models.backbones import UniFormer, UniFormerLight
from mmuniformer.models.layers import LocalBlock, Mlp
from mmuniformer.models.layers import inference as ik
from tests.conftest import randomise_bn


def _randomise(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BatchNorm statistics and affine parameters (``randomise_bn``), plus
    random biases and layer scales."""
    randomise_bn(module, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(('bias', 'ls1.weight', 'ls2.weight')):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return module


def _count_fast_calls(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    calls = [0]
    plain = LocalBlock._forward_inference

    def counted(self: LocalBlock, x: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        return plain(self, x)

    monkeypatch.setattr(LocalBlock, '_forward_inference', counted)
    return calls


def test_bn_scale_shift_matches_the_module() -> None:
    bn = _randomise(nn.BatchNorm2d(6)).eval()
    x = torch.randn(2, 6, 3, 3)
    scale, shift = ik.bn_scale_shift(bn)
    by_hand = (x - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    by_hand = by_hand * bn.weight[:, None, None] + bn.bias[:, None, None]
    torch.testing.assert_close(x * scale[:, None, None] + shift[:, None, None], by_hand)
    torch.testing.assert_close(bn(x), by_hand)
    assert ik.uses_running_stats(bn) and not ik.uses_running_stats(bn.train())


def test_folds_by_hand() -> None:
    torch.manual_seed(0)
    x, w, b = torch.randn(5, 4), torch.randn(3, 4), torch.randn(3)
    scale, shift, gamma = torch.randn(4), torch.randn(4), torch.randn(3)
    fw, fb = ik.fold_input_affine(w, b, scale, shift)
    torch.testing.assert_close(F.linear(x, fw, fb), F.linear(x * scale + shift, w, b))
    ls = nn.Module()
    ls.weight = nn.Parameter(gamma)
    fw, fb = ik.fold_output_scale(w, b, ls)
    torch.testing.assert_close(F.linear(x, fw, fb), F.linear(x, w, b) * gamma)
    assert ik.fold_output_scale(w, b, nn.Identity()) == (w, b)
    for conv in (nn.Conv2d(4, 4, 3, padding=1, groups=4),
                 nn.Conv3d(4, 4, (3, 5, 5), padding=(1, 2, 2), groups=4)):
        x = torch.randn(2, 4, *([6] * (conv.weight.dim() - 2)))
        torch.testing.assert_close(ik.conv_plus_identity(conv, x), x + conv(x))


@pytest.mark.parametrize('rows', [64, ik.ONEDNN_MIN_ROWS])  # F.linear path and oneDNN path
@pytest.mark.parametrize('gelu', [False, True])
def test_linear_equals_linear_then_erf_gelu(rows: int, gelu: bool) -> None:
    torch.manual_seed(0)
    x, w, b = torch.randn(2, rows // 2, 16), torch.randn(48, 16), torch.randn(48)
    expected = x @ w.T + b
    if gelu:  # exact GELU, by hand: x * Phi(x)
        expected = expected * 0.5 * (1 + torch.erf(expected / 2**0.5))
    with torch.no_grad():
        torch.testing.assert_close(ik.linear(x, w, b, gelu=gelu), expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ik.linear(x, w, None), x @ w.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('ndim,size,layer_scale', [(2, (64, 64), None), (2, (9, 7), 0.5),
                                                   (3, (2, 64, 64), None), (3, (3, 5, 6), 1e-2)])
def test_local_block_equals_the_plain_path(monkeypatch: pytest.MonkeyPatch, ndim: int, size: tuple,
                                           layer_scale: float) -> None:
    """64 x 64 maps take the oneDNN linears (>= 8192 rows), the small ones F.linear."""
    calls = _count_fast_calls(monkeypatch)
    torch.manual_seed(0)
    block = _randomise(LocalBlock(16, mlp_ratio=3, layer_scale=layer_scale, ndim=ndim)).eval()
    fmt = torch.channels_last if ndim == 2 else torch.channels_last_3d
    x = torch.randn(2, 16, *size).contiguous(memory_format=fmt)
    with torch.enable_grad():
        plain = block(x)
    with torch.no_grad():
        fast = block(x)
    assert calls[0] == 1
    assert fast.is_contiguous(memory_format=fmt) and fast.shape == plain.shape
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)


def test_mlp_equals_the_plain_path() -> None:
    torch.manual_seed(0)
    mlp = Mlp(32, 96).eval()
    x = torch.randn(2, 50, 32)
    with torch.no_grad():
        fast = mlp(x)
    torch.testing.assert_close(fast, mlp.fc2(F.gelu(mlp.fc1(x))), rtol=1e-5, atol=1e-5)


def test_plain_path_where_the_kernels_do_not_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_fast_calls(monkeypatch)
    block = _randomise(LocalBlock(8)).eval()
    x = torch.randn(1, 8, 6, 6)
    cl = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        block(x)  # channels-first
        block.train()
        block(cl)  # batch statistics
        block.eval()
    block(cl)  # autograd records: Grad-CAM and training need the plain graph
    with torch.no_grad(), fused_kernels(block, False, 'inference') as switched:
        block(cl)  # switched off
    assert switched == 1 and block.fused  # restored
    assert calls[0] == 0
    with torch.no_grad():
        block(cl)
    assert calls[0] == 1


@pytest.mark.parametrize('make,shape', [
    (lambda: UniFormer(dict(depths=(1, 2, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16),
                       out_indices=(0, 1, 2, 3)), (2, 3, 96, 96)),
    (lambda: UniFormer(dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16,
                            layer_scale_stages=(0, 1, 2, 3)), ndim=3, layer_scale_init=1e-1),
     (1, 3, 4, 64, 64)),
    (lambda: UniFormerLight(dict(depths=(1, 2, 3, 2), embed_dims=(16, 32, 64, 128), head_dim=16),
                            out_score_token=True), (2, 3, 96, 96)),
])
def test_backbones_equal_the_plain_path(make, shape: tuple) -> None:
    torch.manual_seed(0)
    model = _randomise(make()).eval()
    if isinstance(model, UniFormerLight):
        with torch.no_grad():
            model.cls_token.normal_()
    x = torch.randn(shape)
    with torch.enable_grad():
        plain = model(x)
    with torch.inference_mode():
        fast = model(x)
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
