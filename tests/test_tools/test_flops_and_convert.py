"""Tests of tools/analysis/flops.py and tools/convert_official.py.

* params / FLOPs of the classifiers against fvcore's counts on the official implementation
  (Sense-X/UniFormer image_classification/models/uniformer.py) and the paper's Table 2;
* official-layout checkpoints (random weights, official key names) converted with the
  tool load into the configs' models and reproduce the independent functional
  reference of the official forward (``tests/reference_uniformer.py``);
* the key mapping round-trips; wrong-size checkpoints fail with the keys listed;
* both CLIs run end to end.
"""
import copy
import re
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict

import pytest
import torch

pytest.importorskip('mmpretrain')

from mmuniformer.analysis import (analyze_complexity, analyze_model,  # noqa: E402
                                  count_params_flops, stage_breakdown)
from mmuniformer.apis import build_model_from_config, input_shape_from_config  # noqa: E402
from mmuniformer.checkpoint import (convert_to_model, official_to_ours,  # noqa: E402
                                    ours_to_official)
from mmuniformer.models.layers import Attention, set_fused  # noqa: E402
from tests.conftest import load_module, run_python  # noqa: E402
from tests.reference_uniformer import (official_shapes, random_official_state_dict,  # noqa: E402
                                       reference_forward)

ROOT = Path(__file__).resolve().parents[2]
CLS = ROOT / 'configs' / 'cls'
FLOPS_TOOL = ROOT / 'tools' / 'analysis' / 'flops.py'
CONVERT_TOOL = ROOT / 'tools' / 'convert_official.py'

# fvcore on the official implementation (Sense-X/UniFormer image_classification/models/
# uniformer.py, 1000-class head): config, input side, M params, GFLOPs.
TARGETS = {
    'small_224': ('uniformer_s_in1k.py', 224, 21.55, 3.64),
    'small_plus_224': ('uniformer_s_plus_in1k.py', 224, 24.03, 4.21),
    'base_224': ('uniformer_b_in1k.py', 224, 49.78, 8.27),
    'small_384': ('uniformer_s_in1k.py', 384, 21.55, 11.87),
    # paper Table 2, UniFormer-B⋆ ↑384 (token labeling, aux head): 50M / 27.2G
    'base_384': ('uniformer_b_tl_in1k_384.py', 384, 50.0, 27.2),
}
# Official layouts of the checkpoints built in the tests: depths, head_dim, official_shapes kwargs.
OFFICIAL = {
    'small': ((3, 4, 8, 3), 64, dict(stem='plain')),
    'small_plus': ((3, 5, 9, 3), 32, dict(stem='conv')),
    'base': ((5, 8, 20, 7), 64, dict(stem='plain')),
    'base_ls': ((5, 8, 20, 7), 64, dict(stem='plain', layer_scale_stages=(2, 3))),
    'small_tl': ((3, 4, 8, 3), 32, dict(stem='plain', aux_head=True)),
}


def _official(name: str, seed: int = 0) -> Dict[str, torch.Tensor]:
    depths, _, kwargs = OFFICIAL[name]
    return random_official_state_dict(official_shapes(depths, **kwargs), seed=seed)


def _tensor_forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x, mode='tensor')


@pytest.fixture(scope='module')
def build() -> Callable[[str], torch.nn.Module]:
    """Build each config's model once per module (eval mode)."""
    cache: Dict[str, torch.nn.Module] = {}

    def get(config: str) -> torch.nn.Module:
        if config not in cache:
            cache[config] = build_model_from_config(str(CLS / config))[0].eval()
        return cache[config]

    return get


@pytest.fixture(scope='module')
def convert_tool() -> ModuleType:
    return load_module(CONVERT_TOOL)


# ----------------------------------------------------------------------------- (a) FLOPs
@pytest.mark.parametrize('target', [
    'small_224', 'small_plus_224',
    'base_224', 'small_384', 'base_384',  # each a few seconds: not marked slow
])
def test_params_flops_match_official(build, target):
    config, side, params_m, gflops = TARGETS[target]
    model = build(config)
    params, flops = count_params_flops(model, torch.randn(1, 3, side, side), _tensor_forward)
    assert params / 1e6 == pytest.approx(params_m, rel=0.01)
    assert flops / 1e9 == pytest.approx(gflops, rel=0.01)
    assert params == sum(p.numel() for p in model.parameters())  # whole classifier counted


def test_attention_counted_and_restored(build):
    model = build('uniformer_s_in1k.py')
    x = torch.randn(1, 3, 64, 64)
    result = analyze_complexity(model, x, _tensor_forward)
    assert not any('scaled_dot_product_attention' in op for op in result.unsupported)
    assert all(m.fused for m in model.modules() if isinstance(m, Attention))
    assert not model.training
    assert set(result.called) == {'backbone', 'neck', 'head'}
    # fused attention is invisible to the counter; the explicit path counts q k^T and attn v
    from mmengine.analysis import FlopAnalyzer
    attn, tokens = model.backbone.blocks3[0].attn, torch.randn(1, 4, 320)
    dense = 4 * 320 * 960 + 4 * 320 * 320  # qkv and proj
    assert analyze_complexity(attn, tokens).flops == dense + 2 * 4 * 4 * 320
    with torch.no_grad():
        fused = FlopAnalyzer(attn, (tokens, )).unsupported_ops_warnings(False)
        assert fused.total() == dense
    rows = stage_breakdown(model, result)
    assert [r[0].split(' ')[0] for r in rows[:4]] == [f'backbone.stage{i}' for i in range(1, 5)]
    assert sum(r[2] for r in rows) == result.flops
    assert sum(r[1] for r in rows) == result.params


class _NeedsDataSamples(torch.nn.Module):
    """A model whose full forward cannot run on images alone (as two-stage detectors)."""

    def __init__(self) -> None:
        super().__init__()
        from mmuniformer.models.backbones import UniFormer
        self.backbone = UniFormer(dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 64), head_dim=16))
        self.head = torch.nn.Linear(64, 10)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        raise TypeError('needs data samples')

    def extract_feat(self, inputs):
        return self.backbone(inputs)


def test_fallback_to_extract_feat_and_bare_backbone():
    model = _NeedsDataSamples()
    report = analyze_model(model, torch.randn(1, 3, 64, 64))
    assert report.forward == 'model.extract_feat(inputs)'
    assert report.failures and 'needs data samples' in report.failures[0][1]
    res = report.complexity
    assert res.called == ['backbone'] and res.params == res.total_params - 650
    assert res.flops == count_params_flops(model.backbone, torch.randn(1, 3, 64, 64))[1] > 0
    bare = analyze_model(model.backbone, torch.randn(1, 3, 64, 64))
    assert bare.forward == 'model(inputs)'
    rows = stage_breakdown(model.backbone, bare.complexity)
    assert len(rows) == 5 and rows[0][0].startswith('stage1') and sum(r[2] for r in rows) == res.flops


def test_default_shape_from_config(build):
    from mmengine.config import Config
    cfg = Config.fromfile(str(CLS / 'uniformer_s_in1k.py'))
    assert input_shape_from_config(cfg) == (None, (224, 224))
    video_like = dict(test_pipeline=[dict(type='SampleFrames', clip_len=16), dict(type='Resize', scale=(-1, 256)),
                                     dict(type='ThreeCrop', crop_size=224)])
    assert input_shape_from_config(video_like) == (16, (224, 224))
    seg_like = dict(test_dataloader=dict(dataset=dict(pipeline=[dict(type='Resize', scale=(2048, 512))])))
    assert input_shape_from_config(seg_like) == (None, (512, 2048))
    pose_like = dict(val_dataloader=dict(dataset=dict(dataset=dict(
        pipeline=[dict(type='TopdownAffine', input_size=(192, 256))]))))
    assert input_shape_from_config(pose_like) == (None, (256, 192))


# ----------------------------------------------------------------------------- (b) conversion
@pytest.mark.parametrize('name,config,dtype', [
    ('small', 'uniformer_s_in1k.py', 'float32'),
    ('base_ls', 'uniformer_b_ls_in1k.py', 'float32'),
    # random conv-stem weights give logits ~1e4 (no LayerNorm after the BN stems): float64
    ('small_plus', 'uniformer_s_plus_in1k.py', 'float64'),
])
def test_converted_checkpoint_reproduces_reference(build, name, config, dtype):
    depths, head_dim, kwargs = OFFICIAL[name]
    official = _official(name)
    model = build(config)
    state_dict = convert_to_model({'model': official}, model, 'mmpretrain')
    missing, unexpected = model.load_state_dict(state_dict, strict=True)
    assert not missing and not unexpected
    dtype = getattr(torch, dtype)
    if dtype != torch.float32:
        model = copy.deepcopy(model).to(dtype)
        official = {k: v.to(dtype) if v.is_floating_point() else v for k, v in official.items()}
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)).to(dtype)
    with torch.no_grad():
        ours = model(x, mode='tensor')
        ref = reference_forward(official, x, depths, head_dim, kwargs['stem'] == 'conv')
    diff = (ours - ref).abs().max().item()
    print(f'{name}: max |logit difference| vs reference = {diff:.3g} (logit scale {ref.abs().max():.3g})')
    assert diff < 1e-4
    # the explicit attention path agrees too
    set_fused(model, False, 'attention')
    try:
        with torch.no_grad():
            explicit = model(x, mode='tensor')
    finally:
        set_fused(model, True, 'attention')
    assert (explicit - ref).abs().max().item() < 1e-4


def test_token_labeling_checkpoint(build):
    """Official token-labeling checkpoints carry ``aux_head``; the TL config's model
    reproduces ``head(pool) + 0.5 * max_tokens aux_head(tokens)``."""
    depths, head_dim, _ = OFFICIAL['small_tl']
    official = _official('small_tl')
    model = build('uniformer_s_tl_in1k_384.py')
    state_dict = convert_to_model({'model': official}, model, 'mmpretrain')
    model.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        diff = (model(x, mode='tensor') - reference_forward(official, x, depths, head_dim)).abs().max()
    assert diff < 1e-4


# ----------------------------------------------------------------------------- (c) round trip
@pytest.mark.parametrize('name,extra', [
    ('small', {}), ('small_plus', {}), ('base_ls', {}), ('small_tl', {}),
    ('layer_scale_everywhere', dict(depths=(1, 2, 1, 1), layer_scale_stages=(0, 1, 2, 3), aux_head=True)),
])
def test_round_trip_is_identity(name, extra):
    if extra:
        extra = dict(extra)
        official = random_official_state_dict(official_shapes(extra.pop('depths'), **extra))
    else:
        official = _official(name)
    backbone = official_to_ours(official)
    assert all('gamma' not in k for k in backbone.state)
    assert set(backbone.left_over) == {k for k in official if k.startswith(('head.', 'aux_head.'))}
    model = official_to_ours(official, 'mmpretrain')
    assert model.left_over == [] and 'head.fc.weight' in model.state
    for back in (ours_to_official(backbone.state).state, ours_to_official(model.state, 'mmpretrain').state):
        assert back.keys() <= official.keys() and len(official) - len(back) <= 4  # heads
        for key, value in back.items():
            assert back[key].shape == official[key].shape, key
            assert torch.equal(back[key], official[key]), key
    assert list(ours_to_official(model.state, 'mmpretrain').state) == list(official)


def test_round_trip_through_model(build):
    official = _official('base_ls', seed=3)
    model = build('uniformer_b_ls_in1k.py')
    model.load_state_dict(convert_to_model({'model': official}, model, 'mmpretrain'))
    back = ours_to_official(model.state_dict(), 'mmpretrain')
    assert back.left_over == [] and set(back.state) == set(official)
    assert all(torch.equal(back.state[k], v) for k, v in official.items())


# ----------------------------------------------------------------------------- (e) errors
def test_wrong_size_checkpoint_raises(build):
    model = build('uniformer_s_in1k.py')
    with pytest.raises(ValueError) as err:
        convert_to_model({'model': _official('base')}, model, 'mmpretrain')
    msg = str(err.value)
    # B has 2 + 4 more local blocks (22 tensors each) and 12 + 4 more global ones (14 each)
    assert '356 unexpected (not in the model): blocks1.{3..4} (2 blocks, 44 tensors)' in msg, msg
    assert 'blocks3.{8..19} (12 blocks, 168 tensors)' in msg
    assert "checkpoint looks like 'base' (5, 8, 20, 7); this model is 'small' (3, 4, 8, 3)" in msg
    with pytest.raises(ValueError) as err:  # S-dagger (conv stem) into S (plain stem)
        convert_to_model({'model': _official('small_plus')}, model, 'mmpretrain')
    msg = str(err.value)
    # S: 4 plain embeds (conv + LayerNorm, weight and bias each)
    assert '16 missing from the checkpoint: backbone.patch_embed1.proj (2 tensors)' in msg, msg
    assert 'patch_embed1.proj.0 (2 tensors)' in msg  # S-dagger's conv stem, left over
    assert 'blocks2.{4} (1 block, 22 tensors)' in msg
    assert "checkpoint looks like 'small_plus' (3, 5, 9, 3)" in msg
    tl = _official('small_tl')
    with pytest.raises(ValueError, match=r'2 unexpected \(not in the model\): aux_head \(2 tensors\)'):
        convert_to_model({'model': tl}, model, 'mmpretrain')  # no place in S
    bad = _official('small')
    bad['head.weight'] = torch.zeros(10, 512)
    with pytest.raises(ValueError, match=r'head\.fc\.weight: checkpoint \(10, 512\) vs model \(1000, 512\)'):
        convert_to_model({'model': bad}, model, 'mmpretrain')


# ----------------------------------------------------------------------------- (d) CLIs
def test_flops_cli(build):
    out = run_python([str(FLOPS_TOOL), 'configs/cls/uniformer_s_in1k.py', '--shape', '112', '112', '--verbose'])
    params, flops = count_params_flops(build('uniformer_s_in1k.py'), torch.randn(1, 3, 112, 112),
                                       _tensor_forward)
    assert re.search(r'Params:\s+21\.55 M', out), out
    assert re.search(rf'FLOPs:\s+{flops / 1e9:.2f} G', out), out
    assert "model(inputs, mode='tensor')" in out and 'backbone + neck + head' in out
    assert 'input:   (1, 3, 112, 112) (from --shape)' in out
    for i in range(1, 5):
        assert f'backbone.stage{i} (patch_embed{i} + blocks{i})' in out


def test_convert_cli(build, tmp_path):
    from mmengine.runner import load_checkpoint
    official = _official('small', seed=5)
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'model': official}, src)
    out = run_python([str(CONVERT_TOOL), str(src), str(dst), '--config', 'configs/cls/uniformer_s_in1k.py'])
    assert 'head.weight -> head.fc.weight' in out
    ckpt = torch.load(dst, map_location='cpu')
    assert set(ckpt) == {'meta', 'state_dict'} and ckpt['meta']['config'] == 'configs/cls/uniformer_s_in1k.py'
    model = build('uniformer_s_in1k.py')
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)  # as `mim test` loads it
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        diff = (model(x, mode='tensor') - reference_forward(official, x, (3, 4, 8, 3), 64)).abs().max()
    assert diff < 1e-4
    # a wrong-size checkpoint fails with exit status 1 and the keys listed
    torch.save({'model': _official('base')}, src)
    out = run_python([str(CONVERT_TOOL), str(src), str(dst), '--config', 'configs/cls/uniformer_s_in1k.py'],
                     returncode=1)
    assert 'blocks3.{8..19}' in out, out
