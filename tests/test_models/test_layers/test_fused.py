"""The one switch between fused kernels and explicit paths (as timm's ``fused_attn``):
``fused`` flags per layer, set for a whole model by ``set_fused`` / ``fused_kernels``."""
import pytest
import torch

from mmuniformer.models.backbones import UniFormer
from mmuniformer.models.layers import Attention, LocalBlock, Mlp, fused_kernels, set_fused

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


def _flags(model):
    return {kind: [m.fused for m in model.modules() if isinstance(m, types)]
            for kind, types in (('attention', Attention), ('inference', (LocalBlock, Mlp)))}


def test_context_switches_each_kind_and_restores():
    model = UniFormer(TINY).eval()
    # 3 global blocks: 3 attentions and 3 MLPs; 2 local blocks
    assert {k: len(v) for k, v in _flags(model).items()} == {'attention': 3, 'inference': 5}
    with fused_kernels(model, False, 'attention') as n:
        assert n == 3 and _flags(model) == {'attention': [False] * 3, 'inference': [True] * 5}
    with fused_kernels(model) as n:
        assert n == 8 and not any(sum(_flags(model).values(), []))
    assert all(sum(_flags(model).values(), []))
    assert set_fused(model, False, 'inference') == 5 and _flags(model)['inference'] == [False] * 5
    with pytest.raises(ValueError, match=r"kind must be one of \('attention', 'inference'\)"):
        set_fused(model, True, 'sdpa')
    with pytest.raises(TypeError, match="enabled must be a bool, got 'no'"):
        set_fused(model, 'no')


def test_fused_and_explicit_paths_agree():
    torch.manual_seed(0)
    model = UniFormer(TINY, out_indices=(0, 1, 2, 3)).eval()
    for m in model.modules():  # non-trivial running statistics for the folded kernels
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        fused = model(x)
        with fused_kernels(model, False):
            plain = model(x)
    for a, b in zip(fused, plain):
        assert a.abs().max() > 0.1  # not all-zero maps
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
