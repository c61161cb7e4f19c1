"""mmuniformer.apis.optimize: outputs against the float32 model within stated tolerances
(backbones, a classifier, a recogniser, light models, dense models), the fused kernels ran on
folds computed once, the dtype 'auto' picks from the hardware (mocked CPU flags), bad
arguments are refused."""
import copy
import re
import sys
from pathlib import Path
from typing import Any, List

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.apis import auto_dtype, cpu_flags, matrix_units, optimize, resolve_dtype
from mmuniformer.models.backbones import UniFormer, UniFormerLight
from mmuniformer.models.layers import LocalBlock, Mlp
from mmuniformer.models.layers import inference as ik
from tests.conftest import REPO, randomise_bn
from tests.harness import count_fused_local_calls

TINY = dict(depths=(1, 2, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(depths=(1, 2, 3, 2), embed_dims=(16, 32, 64, 128), head_dim=16)
#: minimum cosine similarity of every output to float32, per dtype (bf16 keeps 8 bits of
#: mantissa, fp16 11; the issue's bar for the full models is 0.999)
MIN_COSINE = {'bf16': 0.999, 'fp16': 0.9995}
#: the light models select tokens by score: on small random models near-tied scores can rank
#: differently in bf16 and swap a token (float32 attention, which optimize sets, makes this
#: rarer but not impossible), so their bar is lower
MIN_COSINE_LIGHT_BF16 = 0.995
QUICKSTART = Path(REPO) / 'projects/quickstart/configs'


def _tensors(out: Any) -> List[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    return [t for o in out for t in _tensors(o)] if isinstance(out, (list, tuple)) else []


def _randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BatchNorm statistics, biases, layer scales and score tokens."""
    randomise_bn(model, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(('bias', 'ls1.weight', 'ls2.weight', 'cls_token')):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return model


def _assert_close_to_fp32(fast: Any, ref: Any, dtype: str, min_cos: float = 0.) -> None:
    fast, ref = _tensors(fast), _tensors(ref)
    assert len(fast) == len(ref) and fast
    for a, b in zip(fast, ref):
        assert a.shape == b.shape and a.dtype == b.dtype == torch.float32  # cast back
        if dtype == 'fp32':
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
        else:
            cos = F.cosine_similarity(a.flatten(), b.flatten(), dim=0).item()
            assert cos >= (min_cos or MIN_COSINE[dtype]), (dtype, cos)


def _count_fast_calls(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    return count_fused_local_calls(monkeypatch)


@pytest.mark.parametrize('dtype', ['fp32', 'bf16', 'fp16'])
@pytest.mark.parametrize('make,shape', [
    (lambda: UniFormer(dict(TINY, layer_scale_stages=(0, 1, 2, 3)), out_indices=(0, 1, 2, 3),
                       layer_scale_init=0.1), (2, 3, 64, 64)),
    (lambda: UniFormer(dict(TINY, layer_scale_stages=(0, 1, 2, 3)), ndim=3, layer_scale_init=0.1),
     (1, 3, 4, 64, 64)),
    # fp16: the light models' attention in float32 (the release's ``_fp32`` models)
    (lambda: UniFormerLight(TINY_LIGHT, out_score_token=True, attn_fp32=True), (2, 3, 64, 64)),
    (lambda: UniFormerLight(TINY_LIGHT, ndim=3, attn_fp32=True), (1, 3, 4, 64, 64)),
])
def test_backbones_match_fp32(monkeypatch: pytest.MonkeyPatch, make, shape: tuple,
                              dtype: str) -> None:
    torch.manual_seed(0)
    model = _randomise(make()).eval()
    x = torch.randn(shape)
    with torch.no_grad():
        ref = model(x)
    fast = optimize(copy.deepcopy(model), dtype)
    calls = _count_fast_calls(monkeypatch)
    out = fast(x)
    out = fast(x)  # folds were computed once, in optimize, not per call
    blocks = [m for m in fast.modules() if isinstance(m, LocalBlock)]
    assert calls == [2 * len(blocks), 0]
    assert all(ik.is_frozen(m) for m in fast.modules() if isinstance(m, (LocalBlock, Mlp)))
    assert not fast.training and not any(p.requires_grad for p in fast.parameters())
    assert fast.patch_embed2.proj.weight.dtype == resolve_dtype(dtype)
    copied = copy.deepcopy(fast)  # runs its own weights
    with torch.no_grad():
        copied.patch_embed2.proj.weight.zero_()
    assert not torch.equal(_tensors(copied(x))[-1], _tensors(out)[-1])
    light_bf16 = isinstance(model, UniFormerLight) and dtype == 'bf16'
    _assert_close_to_fp32(out, ref, dtype, MIN_COSINE_LIGHT_BF16 if light_bf16 else 0.)


@pytest.mark.parametrize('ndim', [2, 3])
def test_light_models_rank_tokens_in_fp32(ndim: int) -> None:
    """A light model built with bf16 attention gets float32 attention from optimize (its
    hourglass blocks rank tokens by attention score); its token scores stay float32."""
    torch.manual_seed(0)
    model = _randomise(UniFormerLight(TINY_LIGHT, out_score_token=ndim == 2, ndim=ndim)).eval()
    x = torch.randn(2, 3, 64, 64) if ndim == 2 else torch.randn(1, 3, 4, 64, 64)
    with torch.no_grad():
        ref = model(x)
    fast = optimize(copy.deepcopy(model), 'bf16')
    assert [blk.attn.fp32 for blk in fast.blocks3] == [True] * 3
    assert not model.blocks3[0].attn.fp32
    _assert_close_to_fp32(fast(x), ref, 'bf16', MIN_COSINE_LIGHT_BF16)
    assert not any(b.attn.fp32 for b in optimize(copy.deepcopy(model), 'fp32').blocks3)


@pytest.mark.parametrize('config,shape', [
    ('uniformer_tiny_shapes.py', (2, 3, 64, 64)),  # mmpretrain ImageClassifier
    ('uniformer_tiny_motion.py', (2, 1, 3, 4, 64, 64)),  # mmaction2 Recognizer3D
    ('fpn_uniformer_tiny_shapes_ade.py', (1, 3, 64, 64)),  # mmseg EncoderDecoder
])
def test_whole_models_match_fp32(config: str, shape: tuple) -> None:
    """Whole models keep their preprocessors and heads in float32; the tensor forward's
    outputs match the float32 model's."""
    from mmuniformer.apis import build_model_from_config
    model = _randomise(build_model_from_config(str(QUICKSTART / config))[0]).eval()
    torch.manual_seed(0)
    x = torch.randn(shape)
    with torch.no_grad():
        ref = model(x, mode='tensor')
    fast = optimize(copy.deepcopy(model), 'bf16')
    head_param = next(p for n, p in fast.named_parameters() if not n.startswith('backbone'))
    assert head_param.dtype == torch.float32  # only the backbone is cast
    _assert_close_to_fp32(fast(x, mode='tensor'), ref, 'bf16')


def test_compiled_without_graph_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``compile=True`` asks inductor for a frozen, ``fullgraph`` compilation of each
    backbone; dynamo traces the folded low-precision backbone without a graph break
    (``fullgraph`` raises on one) and gives its outputs. The trace runs with dynamo's eager
    backend here: inductor's C++ compilation takes minutes on a small CI machine."""
    asked = []
    real_compile = torch.compile

    def eager_compile(fn, **kwargs):
        asked.append(kwargs)
        return real_compile(fn, backend='eager', fullgraph=kwargs['fullgraph'])

    monkeypatch.setattr(torch, 'compile', eager_compile)
    torch.manual_seed(0)
    model = _randomise(UniFormerLight(TINY_LIGHT, out_score_token=True)).eval()
    x = torch.randn(1, 3, 64, 64)
    fast = optimize(copy.deepcopy(model), 'bf16')
    with torch.no_grad():
        ref = fast(x)
    torch._dynamo.reset()
    compiled = optimize(copy.deepcopy(model), 'bf16', compile=True)
    assert asked == [dict(fullgraph=True, options={'freezing': True})]
    out = compiled(x)
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b, rtol=2e-2, atol=2e-2)
    torch._dynamo.reset()


def test_auto_dtype_from_the_hardware(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    avx2 = frozenset({'fpu', 'avx', 'avx2', 'fma'})
    avx512_bf16 = avx2 | {'avx512f', 'avx512_bf16'}
    amx = avx2 | {'avx512f', 'amx_bf16', 'amx_tile'}
    assert auto_dtype('cpu', avx2) == 'fp32'
    assert auto_dtype('cpu', avx2 | {'avx512f'}) == 'fp32'
    assert auto_dtype('cpu', avx512_bf16) == 'bf16' and auto_dtype('cpu', amx) == 'bf16'
    assert auto_dtype('meta', amx) == 'fp32'
    assert matrix_units(amx) == ['amx_bf16', 'avx512f', 'avx2']
    assert matrix_units(avx512_bf16) == ['avx512_bf16', 'avx512f', 'avx2']
    for native, expected in ((True, 'bf16'), (False, 'fp16')):
        monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                            lambda including_emulation=True, n=native: n)
        assert auto_dtype('cuda:0') == expected
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n'
                    'flags\t\t: fpu\n')
    assert cpu_flags(str(info)) == {'fpu', 'avx2', 'avx512_bf16'}
    assert cpu_flags(str(tmp_path / 'missing')) == frozenset()
    module = sys.modules['mmuniformer.apis.optimize']  # the attribute is the function
    monkeypatch.setattr(module, 'cpu_flags', lambda: avx2)
    assert resolve_dtype('auto', 'cpu') == torch.float32
    monkeypatch.setattr(module, 'cpu_flags', lambda: amx)
    assert resolve_dtype('auto', 'cpu') == torch.bfloat16


def test_bad_arguments() -> None:
    model = UniFormer(TINY)
    for bad in ('int8', 'float32', 'BF16', torch.float64, None):
        message = f"dtype must be 'auto', 'fp32', 'bf16' or 'fp16', got {bad!r}"
        with pytest.raises(ValueError, match=re.escape(message)):
            optimize(model, bad)
    with pytest.raises(TypeError, match='optimize takes an nn.Module, got str'):
        optimize('model.pth')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='no UniFormer / UniFormerLight backbone in the Linear'):
        optimize(nn.Linear(2, 2), 'fp32')
    optimize(model, 'fp32')
    with pytest.raises(ValueError, match='already applied'):
        optimize(model, 'fp32')
