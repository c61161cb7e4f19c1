"""UniFormer backbone: shapes, modes, freezing, checkpointing, attention paths, errors."""
import copy

import pytest
import torch
import torch.nn as nn

from mmuniformer.models.backbones.uniformer import ARCH_ZOO, UniFormer
from mmuniformer.models.layers import Attention, GlobalBlock
from tests.harness import assert_fused_equals_explicit

IMAGE_ARCHS = ['small', 'small_plus', 'small_plus_dim64', 'base', 'base_ls', 'large_ls']


def _tiny(**kwargs) -> UniFormer:
    arch = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
    return UniFormer(arch=kwargs.pop('arch', arch), **kwargs)


@pytest.mark.parametrize('arch', IMAGE_ARCHS)
def test_arch_shapes(arch):
    torch.manual_seed(0)
    model = UniFormer(arch, out_indices=(0, 1, 2, 3), out_norm='ln')
    model.init_weights()
    model.eval()
    dims = ARCH_ZOO[arch]['embed_dims']
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, dims[i], 64 // s, 64 // s)
                                             for i, s in enumerate((4, 8, 16, 32))]
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('out_indices', [(3, ), (0, 2), (1, ), (0, 1, 2, 3), -1])
def test_out_indices(out_indices):
    model = _tiny(out_indices=out_indices).eval()
    outs = model(torch.randn(2, 3, 64, 96))
    expect = (3, ) if out_indices == -1 else out_indices
    assert len(outs) == len(expect)
    for o, i in zip(outs, expect):
        assert o.shape == (2, (16, 32, 64, 128)[i], 64 // 2**(i + 2), 96 // 2**(i + 2))


@pytest.mark.parametrize('mode', ['window', 'hybrid'])
def test_window_modes_odd_sizes(mode):
    torch.manual_seed(0)
    arch = dict(depths=(1, 1, 4, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
    model = UniFormer(arch, out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode=mode,
                      window_size=3).eval()
    outs = model(torch.randn(1, 3, 112, 137))
    assert [tuple(o.shape[2:]) for o in outs] == [(28, 34), (14, 17), (7, 8), (3, 4)]
    assert all(torch.isfinite(o).all() for o in outs)
    kinds = [b.window_size for b in model.blocks3]
    assert kinds == ([3, 3, 3, 3] if mode == 'window' else [3, 3, 3, None])


def test_hybrid_layout_small():
    model = UniFormer('small', stage3_mode='hybrid', window_size=14)
    assert [b.window_size for b in model.blocks3] == [14, 14, 14, None, 14, 14, 14, None]
    model = UniFormer('base', stage3_mode='hybrid', window_size=14)
    assert sum(b.window_size is None for b in model.blocks3) == 5


def test_window_covering_map_equals_global():
    """A window at least as large as the map (with zero padding) must not change the
    result w.r.t. global attention when the map fits exactly."""
    torch.manual_seed(0)
    g = GlobalBlock(32, 2).eval()
    w = GlobalBlock(32, 2, window_size=8).eval()
    w.load_state_dict(g.state_dict())
    x = torch.randn(2, 32, 8, 8)
    torch.testing.assert_close(w(x), g(x))


def test_window_partition_matches_manual():
    torch.manual_seed(0)
    blk = GlobalBlock(16, 2, window_size=4).eval()
    x = torch.randn(1, 16, 5, 6)
    out = blk(x)
    # manual: pad after norm1, attention per 4x4 window, crop
    y = x + blk.pos_embed(x)
    t = y.flatten(2).transpose(1, 2)
    n = blk.norm1(t).view(1, 5, 6, 16)
    n = nn.functional.pad(n, (0, 0, 0, 2, 0, 3))
    attn_out = torch.zeros_like(n)
    for i in range(0, 8, 4):
        for j in range(0, 8, 4):
            win = n[:, i:i + 4, j:j + 4].reshape(1, 16, 16)
            attn_out[:, i:i + 4, j:j + 4] = blk.attn(win).view(1, 4, 4, 16)
    t = t + attn_out[:, :5, :6].reshape(1, 30, 16)
    t = t + blk.mlp(blk.norm2(t))
    torch.testing.assert_close(out, t.transpose(1, 2).reshape(1, 16, 5, 6))


def test_sdpa_equals_explicit():
    torch.manual_seed(0)
    model = UniFormer('small', out_indices=(2, 3), stage3_mode='hybrid', window_size=2).eval()
    x = torch.randn(2, 3, 96, 64)
    assert_fused_equals_explicit(model, x)


@pytest.mark.parametrize('use_sdpa', [True, False])
def test_attention_against_torch_multihead_attention(use_sdpa):
    """Output and first attention row against ``nn.MultiheadAttention`` given the same
    weights (official layout: one qkv Linear, rows q | k | v, heads as contiguous
    ``head_dim`` chunks), and the first row once more by hand for one sample."""
    torch.manual_seed(0)
    dim, heads, n = 32, 4, 10
    attn = Attention(dim, heads, use_sdpa=use_sdpa).eval()
    ref = nn.MultiheadAttention(dim, heads, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(attn.qkv.weight)
        ref.in_proj_bias.copy_(attn.qkv.bias)
        ref.out_proj.weight.copy_(attn.proj.weight)
        ref.out_proj.bias.copy_(attn.proj.bias)
    x = torch.randn(2, n, dim)
    with torch.no_grad():
        out, row = attn(x, return_first_row=True)
        expect, weights = ref(x, x, x, need_weights=True, average_attn_weights=True)
    assert row.shape == (2, n - 1)
    torch.testing.assert_close(out, expect, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(row, weights[:, 0, 1:], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, attn(x))  # the row does not change the output

    # by hand for sample 1: per head h, softmax_j(q0 . k_j / sqrt(head_dim)) over all n
    # tokens, then the mean over heads of the entries j = 1..n-1
    d = dim // heads
    w, b = attn.qkv.weight.detach(), attn.qkv.bias.detach()
    probs = []
    for h in range(heads):
        rows = slice(h * d, (h + 1) * d)
        q0 = x[1, 0] @ w[rows].T + b[rows]
        keys = x[1] @ w[dim + h * d:dim + (h + 1) * d].T + b[dim + h * d:dim + (h + 1) * d]
        logits = torch.tensor([float(q0 @ keys[j]) for j in range(n)]) / d**0.5
        probs.append(logits.exp() / logits.exp().sum())
    torch.testing.assert_close(row[1], torch.stack(probs).mean(0)[1:], atol=1e-6, rtol=1e-5)


def test_layer_scale_placement():
    model = UniFormer('base_ls')
    assert not hasattr(model.blocks1[0].ls1, 'weight')
    assert model.blocks3[0].ls1.weight.shape == (320, )
    assert torch.all(model.blocks4[0].ls2.weight == 1e-6)
    large = UniFormer('large_ls', layer_scale_init=1e-5)
    assert torch.all(large.blocks1[0].ls1.weight == 1e-5)


def test_frozen_stages_and_norm_eval():
    model = _tiny(frozen_stages=1, norm_eval=True, out_indices=(0, 1, 2, 3), out_norm='ln')
    model.train()
    for i in (1, 2):
        for name in (f'patch_embed{i}', f'blocks{i}', f'norm{i}'):
            mod = getattr(model, name)
            assert not mod.training
            assert all(not p.requires_grad for p in mod.parameters())
    assert all(p.requires_grad for p in model.blocks3.parameters())
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    # frozen BN statistics do not move in training
    before = copy.deepcopy(model.blocks1[0].norm1.running_mean)
    model(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(model.blocks1[0].norm1.running_mean, before)
    # without norm_eval, unfrozen BNs train
    model = _tiny(frozen_stages=0).train()
    assert model.blocks2[0].norm1.training and not model.blocks1[0].norm1.training


def test_with_cp_same_outputs_and_grads():
    torch.manual_seed(0)
    ref = _tiny(out_indices=(0, 3), drop_path_rate=0.)
    cpm = _tiny(out_indices=(0, 3), drop_path_rate=0., with_cp=True)
    cpm.load_state_dict(ref.state_dict())
    ref.train(), cpm.train()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs_ref = ref(x)
    outs_cp = cpm(x)
    for a, b in zip(outs_ref, outs_cp):
        torch.testing.assert_close(a, b)
    sum(o.sum() for o in outs_ref).backward()
    sum(o.sum() for o in outs_cp).backward()
    for (name, p), q in zip(ref.named_parameters(), cpm.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


@pytest.mark.parametrize('arch', ['small_plus', 'base_ls'])
def test_every_parameter_gets_gradient(arch):
    torch.manual_seed(0)
    model = UniFormer(arch, out_indices=(0, 1, 2, 3)).train()  # no drop path: deterministic
    outs = model(torch.randn(2, 3, 64, 64))
    # random projections: the mean of a BatchNorm output has no gradient
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert missing == []


def test_drop_path_schedule():
    model = UniFormer('small', drop_path_rate=0.1)
    rates = [b.drop_path.drop_prob if hasattr(b.drop_path, 'drop_prob') else 0.
             for i in range(1, 5) for b in getattr(model, f'blocks{i}')]
    assert len(rates) == 18
    assert rates[0] == 0. and abs(rates[-1] - 0.1) < 1e-7
    assert all(b > a for a, b in zip(rates[1:], rates[2:]))


def test_video_3d_shapes():
    model = _tiny(ndim=3, out_indices=(0, 1, 2, 3)).eval()
    outs = model(torch.randn(1, 3, 8, 64, 64))
    assert [tuple(o.shape[2:]) for o in outs] == [(4, 16, 16), (4, 8, 8), (4, 4, 4), (4, 2, 2)]
    assert model.blocks1[0].attn.kernel_size == (5, 5, 5)
    assert model.patch_embed1.proj.stride == (2, 4, 4)


# bad arguments: tests/test_models/test_backbones/test_validation.py lists them for both backbones


@pytest.mark.parametrize('shape, message', [
    ((1, 3, 8, 64, 64), r'expects images \(B, C, H, W\)'),
    ((3, 64, 64), r'expects images \(B, C, H, W\)'),
    ((1, 1, 64, 64), 'built for 3 input channels, got 1'),
    ((1, 3, 16, 64), 'too small'),
])
def test_bad_inputs(shape, message):
    model = _tiny()
    with pytest.raises(ValueError, match=message):
        model(torch.randn(*shape))


def test_arch_aliases_and_dict():
    assert UniFormer('S').arch == UniFormer('small').arch
    model = UniFormer(dict(depths=[1, 1, 1, 1], embed_dims=[8, 16, 32, 64], head_dim=8,
                           stem='conv'))
    assert model.patch_embed1.proj[0].out_channels == 4
