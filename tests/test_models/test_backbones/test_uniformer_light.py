"""Lightweight hourglass UniFormer (XXS / XS): shapes, size targets, token shrinking and
recovering, attention paths, gradients, official checkpoints, errors, the score-token head."""
import copy
import math
from typing import List

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.checkpoint import load_uniformer_checkpoint, official_to_ours, ours_to_official
from mmuniformer.models.backbones.uniformer_light import (ARCH_ZOO_LIGHT, HourglassBlock,
                                                          UniFormerLight, kept_count,
                                                          pool_scores, rank_order)
from mmuniformer.models.layers import Attention
from mmuniformer.models.layers import set_fused
from tests.conftest import randomise_bn
from tests.harness import assert_fused_equals_explicit

CFG_DIR = 'configs/cls/'


def _seeded(model: UniFormerLight) -> UniFormerLight:
    """Random score token, so that token scores have no ties (the official init is zeros)."""
    with torch.no_grad():
        model.cls_token.normal_()
    return model


def official_keys(arch: str) -> List[str]:
    """State-dict keys of the official ``uniformer_{arch}`` (image_classification/models/
    uniformer_light.py), written from its module layout, without layer scale."""
    depths = ARCH_ZOO_LIGHT[arch]['depths']
    bn = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    wb = ['weight', 'bias']
    keys = ['cls_token'] + [f'cls_upsample.{p}' for p in wb]
    keys += [f'patch_embed1.proj.{i}.{p}' for i in (0, 3) for p in wb]
    keys += [f'patch_embed1.proj.{i}.{p}' for i in (1, 4) for p in bn]
    keys += [f'patch_embed{s}.{m}.{p}' for s in (2, 3, 4) for m in ('proj', 'norm') for p in wb]
    for s, depth in enumerate(depths, 1):
        for j in range(depth):
            pre = f'blocks{s}.{j}.'
            if s <= 2:
                keys += [pre + f'{m}.{p}' for m in ('pos_embed', 'conv1', 'attn', 'conv2',
                                                    'mlp.fc1', 'mlp.fc2') for p in wb]
                keys += [pre + f'{m}.{p}' for m in ('norm1', 'norm2') for p in bn]
            else:
                keys += [pre + f'{m}.{p}' for m in ('pos_embed', 'norm1', 'attn.qkv', 'attn.proj',
                                                    'norm2', 'mlp.fc1', 'mlp.fc2') for p in wb]
    keys += [f'norm.{p}' for p in bn] + [f'norm_cls.{p}' for p in wb]
    keys += [f'{h}.{p}' for h in ('head', 'head_cls') for p in wb]
    return sorted(keys)


# ---------------------------------------------------------------- construction and shapes
def test_arch_errors():
    with pytest.raises(ValueError, match="unknown UniFormerLight arch 'tiny'"):
        UniFormerLight('tiny')
    with pytest.raises(ValueError, match='unknown keys'):
        UniFormerLight(dict(ARCH_ZOO_LIGHT['xxs'], stem='conv'))
    with pytest.raises(ValueError, match='not divisible by head_dim'):
        UniFormerLight(dict(ARCH_ZOO_LIGHT['xxs'], head_dim=30))
    with pytest.raises(ValueError, match='out_indices'):
        UniFormerLight('xxs', out_indices=(4, ))
    with pytest.raises(ValueError, match='keep_ratio'):
        UniFormerLight('xxs', keep_ratio=0.)
    with pytest.raises(TypeError, match='arch must be a str or dict'):
        UniFormerLight(3)


def test_arch_layout():
    model = UniFormerLight('XS')
    assert [len(getattr(model, f'blocks{i}')) for i in range(1, 5)] == [3, 5, 9, 3]
    blocks = list(model.blocks3) + list(model.blocks4)
    assert [b.keep_ratio for b in blocks] == [1.] + [.5] * 11
    assert [b.trade_off for b in blocks] == [1.] + [.5] * 11
    assert [b.attn.num_heads for b in blocks] == [8] * 9 + [16] * 3
    assert model.blocks3[0].mlp.fc1.out_features == 3 * 256
    # conv stem at stage 1 only, plain patch embeds afterwards
    assert isinstance(model.patch_embed1.proj[1], nn.BatchNorm2d)
    assert isinstance(model.patch_embed2.norm, nn.LayerNorm)


@pytest.mark.parametrize('out_indices', [(3, ), (0, 1, 2, 3), (1, 2), -1])
def test_out_indices_shapes(out_indices):
    torch.manual_seed(0)
    model = _seeded(UniFormerLight('xxs', out_indices=out_indices, out_score_token=True)).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 96))
    expect = (3, ) if out_indices == -1 else out_indices
    dims = ARCH_ZOO_LIGHT['xxs']['embed_dims']
    assert [tuple(o.shape) for o in outs[:-1]] == [
        (2, dims[i], 64 // 2**(i + 2), 96 // 2**(i + 2)) for i in expect]
    assert outs[-1].shape == (2, 448)  # the score token
    assert all(torch.isfinite(o).all() for o in outs)


def test_odd_size_and_dense_norms():
    torch.manual_seed(0)
    model = _seeded(UniFormerLight('xxs', out_indices=(0, 1, 2, 3), out_norm='ln')).eval()
    assert not hasattr(model, 'norm') and not hasattr(model, 'norm_cls')
    assert all(getattr(model, f'norm{i}').eps == 1e-6 for i in range(1, 5))
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 112, 137))
    # the conv stem rounds up (3x3 s2 p1), the later embeds down
    assert [tuple(o.shape[2:]) for o in outs] == [(28, 35), (14, 17), (7, 8), (3, 4)]
    assert all(torch.isfinite(o).all() for o in outs)


# ---------------------------------------------------------------- size targets
# fvcore on the official implementation (Sense-X/UniFormer image_classification/models/
# uniformer_light.py, 1000-class heads); the paper's Table 11 gives 10.2M / 16.5M params
# and 0.67 (XXS at 160) / 1.4 (XS at 192) GFLOPs.
@pytest.mark.parametrize('cfg, params', [('uniformer_xxs_in1k_160.py', 10.22e6),
                                         ('uniformer_xs_in1k_192.py', 16.51e6)])
def test_params_with_head(cfg, params):
    model = _build_classifier(cfg)
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - params) / params < 0.01, n


@pytest.mark.parametrize('cfg, size, gflops', [('uniformer_xxs_in1k_160.py', 160, 0.66),
                                               ('uniformer_xs_in1k_192.py', 192, 1.42)])
def test_flops(cfg, size, gflops):
    from mmengine.analysis import FlopAnalyzer
    model = _build_classifier(cfg).eval()
    set_fused(model, False, 'attention')
    analyzer = FlopAnalyzer(model, (torch.randn(1, 3, size, size), ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    total = analyzer.total() / 1e9
    assert abs(total - gflops) / gflops < 0.02, total


# ---------------------------------------------------------------- token shrinking / recovering
def test_kept_tokens_are_half():
    """Attention sees score token + kept + merged tokens: all 100 stage-3 tokens in the first
    block, then 50 (+2); stage 4's 25 tokens keep 12 (+2)."""
    torch.manual_seed(0)
    model = _seeded(UniFormerLight('xxs')).eval()
    lengths = {}
    for name, m in model.named_modules():
        if isinstance(m, Attention):
            m.register_forward_hook(
                lambda mod, args, out, name=name: lengths.__setitem__(name, args[0].shape[1]))
    with torch.no_grad():
        model(torch.randn(1, 3, 160, 160))
    assert [lengths[f'blocks3.{j}.attn'] for j in range(8)] == [101] + [52] * 7
    assert [lengths[f'blocks4.{j}.attn'] for j in range(2)] == [14, 14]


def test_kept_count_as_a_traced_graph_value():
    """The traced kept count (a tensor, as under torch.jit.trace) is int(N * keep_ratio) for
    every N; a ratio whose float rounding no small fraction reproduces is refused."""
    n = torch.arange(1, 5000)
    for ratio in (0.5, 0.6, 0.25, 1 / 3, 0.9):
        assert torch.equal(kept_count(n, ratio), torch.tensor([int(i * ratio) for i in
                                                                range(1, 5000)]))
        assert kept_count(90, ratio) == int(90 * ratio)
    assert kept_count(90, 0.7) == 62  # 90 * 0.7 = 62.99999999999999 in float64
    with pytest.raises(ValueError, match='keep_ratio 0.7 is not exported'):
        kept_count(torch.tensor(90), 0.7)


def test_rank_order_ties_by_position_eager_and_traced():
    """Best score first, equal scores by position; the traced ranking (rank counts, no sort
    of tied values) gives the same order on other sizes than the one traced."""
    scores = torch.tensor([[0.1, 0.3, 0.3, 0.2, 0.3, 0.1]])
    assert rank_order(scores).tolist() == [[1, 2, 4, 3, 0, 5]]
    traced = torch.jit.trace(rank_order, torch.rand(2, 7))
    g = torch.Generator().manual_seed(0)
    for x in (scores, torch.randint(0, 3, (3, 40), generator=g).float(), torch.rand(2, 64)):
        assert torch.equal(traced(x), rank_order(x))
        assert torch.equal(rank_order(x), torch.sort(x, stable=True, descending=True).indices)


def test_block_merge_fast_update_and_order():
    """A shrinking block merges the low-score tokens by score weight, gives all of them the
    same update, keeps their scores, and returns every token at its grid position."""
    torch.manual_seed(0)
    block = HourglassBlock(32, 2, keep_ratio=0.5, trade_off=0.5).eval()
    x = torch.randn(2, 32, 4, 5)
    token = torch.randn(2, 1, 32)
    scores = torch.rand(2, 20).softmax(dim=1)
    seqs = []
    block.norm1.register_forward_hook(lambda m, args, out: seqs.append(args[0]))
    with torch.no_grad():
        y, new_token, new_scores = block(x, token, scores)
    seq = seqs[0]
    assert seq.shape == (2, 1 + 10 + 1, 32)

    base = (x + block.pos_embed(x)).flatten(2).transpose(1, 2)  # tokens after DPE
    delta = y.flatten(2).transpose(1, 2) - base
    for b in range(2):
        order = scores[b].argsort(descending=True)
        keep, drop = order[:10], order[10:]
        w = scores[b, drop] / scores[b, drop].sum()
        torch.testing.assert_close(seq[b, -1], (w[:, None] * base[b, drop]).sum(0))
        torch.testing.assert_close(seq[b, 1:-1], base[b, keep])  # kept, best first
        torch.testing.assert_close(delta[b, drop], delta[b, drop[:1]].expand(10, -1))
        assert not torch.allclose(delta[b, keep], delta[b, keep[:1]].expand(10, -1))
        assert torch.equal(new_scores[b, drop], scores[b, drop])
        assert not torch.equal(new_scores[b, keep], scores[b, keep])
    assert new_token.shape == (2, 1, 32)


def test_block_keeps_order_with_identity_branches():
    """With both residual branches zeroed the block is its DPE: tokens must come back in
    grid order whatever the scores."""
    torch.manual_seed(0)
    block = HourglassBlock(16, 2).eval()
    for lin in (block.attn.proj, block.mlp.fc2):
        nn.init.zeros_(lin.weight)
        nn.init.zeros_(lin.bias)
    x = torch.randn(3, 16, 5, 3)
    with torch.no_grad():
        y, _, _ = block(x, torch.randn(3, 1, 16), torch.rand(3, 15))
    torch.testing.assert_close(y, x + block.pos_embed(x))


def test_pool_scores():
    scores = torch.rand(2, 7 * 6)
    pooled = pool_scores(scores, (7, 6))
    assert pooled.shape == (2, 9)
    torch.testing.assert_close(pooled.sum(1), scores.sum(1))
    grid = scores.view(2, 7, 6)[:, :6]
    expect = grid.reshape(2, 3, 2, 3, 2).mean((2, 4)).reshape(2, 9)
    torch.testing.assert_close(pooled / pooled.sum(1, keepdim=True),
                               expect / expect.sum(1, keepdim=True))


# ---------------------------------------------------------------- numerics and training
def test_sdpa_equals_explicit():
    torch.manual_seed(0)
    model = _seeded(UniFormerLight('xxs', out_indices=(2, 3), out_score_token=True)).eval()
    x = torch.randn(2, 3, 96, 64)
    assert_fused_equals_explicit(model, x)


def test_every_parameter_gets_gradient():
    torch.manual_seed(0)
    arch = dict(ARCH_ZOO_LIGHT['xxs'], layer_scale_stages=(0, 1, 2, 3))
    model = _seeded(UniFormerLight(arch, out_score_token=True, layer_scale_init=0.1)).train()
    assert model.blocks3[1].ls3.weight.shape == (224, )  # fast-update layer scale
    outs = model(torch.randn(2, 3, 64, 64))
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_with_cp_same_output_and_grads():
    torch.manual_seed(0)
    model = _seeded(UniFormerLight('xxs', out_score_token=True, drop_path_rate=0.)).train()
    cp_model = copy.deepcopy(model)
    cp_model.with_cp = True
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs = [m(x) for m in (model, cp_model)]
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)
    for o, m in zip(outs, (model, cp_model)):
        sum(t.square().mean() for t in o).backward()
    for (n, p), q in zip(model.named_parameters(), cp_model.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=n)


def test_frozen_stages_and_norm_eval():
    model = UniFormerLight('xxs', frozen_stages=2, norm_eval=True).train()
    assert not model.cls_token.requires_grad
    assert not any(p.requires_grad for p in model.blocks3.parameters())
    assert all(p.requires_grad for p in model.blocks4.parameters())
    assert model.cls_upsample.weight.requires_grad
    assert not model.norm.training and not model.blocks1[0].norm1.training  # BatchNorms
    assert model.blocks4[0].norm1.training  # a LayerNorm


# ---------------------------------------------------------------- official checkpoints
def test_official_checkpoint_loads_key_for_key(tmp_path):
    torch.manual_seed(0)
    src = _seeded(UniFormerLight('xxs', out_score_token=True)).eval()
    randomise_bn(src)
    head = {'head.fc.weight': torch.randn(1000, 448), 'head.fc.bias': torch.randn(1000),
            'head.score_fc.weight': torch.randn(1000, 448), 'head.score_fc.bias': torch.randn(1000)}
    model_sd = {**{f'backbone.{k}': v for k, v in src.state_dict().items()}, **head}
    official = ours_to_official(model_sd, 'mmpretrain').state
    assert sorted(official) == official_keys('xxs')
    mapped = official_to_ours(official, 'mmpretrain')
    assert mapped.left_over == [] and set(mapped.state) == set(model_sd)
    path = str(tmp_path / 'uniformer_xxs_160.pth')
    torch.save({'model': official}, path)

    dst = UniFormerLight('xxs', out_score_token=True,
                         init_cfg=dict(type='Pretrained', checkpoint=path)).eval()
    report = load_uniformer_checkpoint(dst, path)
    assert not report and report.missing == [] and report.unexpected == []
    dst.init_weights()
    x = torch.randn(2, 3, 64, 80)
    with torch.no_grad():
        for a, b in zip(src(x), dst(x)):
            assert torch.equal(a, b)


def test_layer_scale_keys_map_to_official_gammas():
    arch = dict(ARCH_ZOO_LIGHT['xxs'], layer_scale_stages=(0, 1, 2, 3))
    sd = UniFormerLight(arch).state_dict()
    official = ours_to_official(sd).state
    assert official['blocks1.0.gamma_1'].shape == (1, 56, 1, 1)
    assert official['blocks3.1.gamma_3'].shape == (224, )
    assert 'blocks3.0.gamma_3' not in official  # the first stage-3 block shrinks nothing
    assert set(official_to_ours(official).state) == set(sd)


# ---------------------------------------------------------------- input errors
@pytest.mark.parametrize('shape, match', [
    ((3, 64, 64), r'expects images \(B, C, H, W\)'),
    ((1, 3, 4, 64, 64), r'expects images \(B, C, H, W\)'),
    ((1, 1, 64, 64), 'built for 3 input channels, got 1'),
    ((1, 3, 28, 64), 'too small: stage 4'),
])
def test_bad_input(shape, match):
    model = UniFormerLight('xxs').eval()
    with pytest.raises(ValueError, match=match):
        model(torch.randn(*shape))


# ---------------------------------------------------------------- mmpretrain head and configs
def _build_classifier(cfg_name: str) -> nn.Module:
    pytest.importorskip('mmpretrain')
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(CFG_DIR + cfg_name)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)  # as the Runner does
    return MODELS.build(model_cfg)


def test_head_loss_matches_hand_computation():
    pytest.importorskip('mmpretrain')
    from mmpretrain.structures import DataSample
    from mmuniformer.models.heads import UniFormerLightClsHead
    torch.manual_seed(0)
    eps, k = 0.1, 5
    head = UniFormerLightClsHead(
        num_classes=k, in_channels=8,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=eps, mode='original'))
    head.init_weights()
    feat, token = torch.randn(4, 8, 3, 2), torch.randn(4, 8)
    soft = torch.rand(4, k).softmax(dim=1)  # a Mixup/CutMix-like soft target
    hard = torch.tensor([0, 3, 1, 4])
    for samples, target in (
            ([DataSample().set_gt_score(s) for s in soft], soft),
            ([DataSample().set_gt_label(int(i)) for i in hard], F.one_hot(hard, k).float())):
        losses = head.loss((feat, token), samples)
        smooth = target * (1 - eps) + eps / k

        def ce(logits: torch.Tensor) -> torch.Tensor:
            return -(smooth * logits.log_softmax(dim=1)).sum(dim=1).mean()

        pooled = head.fc(feat.mean(dim=(2, 3)))
        torch.testing.assert_close(losses['loss_cls'], 0.5 * ce(pooled))
        torch.testing.assert_close(losses['loss_score_token'], 0.5 * ce(head.score_fc(token)))
    preds = head.predict((feat, token))
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]),
                               head.fc(feat.mean(dim=(2, 3))).softmax(dim=1))
    with pytest.raises(ValueError, match='out_score_token=True'):
        head.loss((feat, ), [DataSample().set_gt_label(0)] * 4)


def test_classifier_train_step_with_batch_augments():
    """The XXS config's classifier: Mixup/CutMix soft targets, both losses, predict."""
    torch.manual_seed(0)
    model = _build_classifier('uniformer_xxs_in1k_160.py')
    from mmpretrain.structures import DataSample
    model.init_weights()
    model.train()
    data = dict(inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8) for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in (1, 7)])
    batch = model.data_preprocessor(data, training=True)
    assert batch['data_samples'][0].gt_score.shape == (1000, )  # soft labels from the augments
    losses = model(**batch, mode='loss')
    # not 'loss': mmengine logs the total under that name, a term named so would hide it
    assert set(losses) == {'loss_cls', 'loss_score_token'}
    # untrained: each head's 1000-way prediction is almost uniform, so CE is ln(1000) plus
    # about half the logit variance (small Linear init over normalised features) whatever
    # the soft target, weighted 0.5 each (official image_classification/engine_light.py)
    for value in losses.values():
        assert 0.5 * math.log(1000) * 0.98 < value.item() < 0.5 * (math.log(1000) + 1.0)
    sum(losses.values()).backward()
    assert model.head.score_fc.weight.grad is not None
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(data, training=False), mode='predict')
    assert preds[0].pred_score.shape == (1000, )


@pytest.mark.parametrize('cfg, size, resize', [('uniformer_xxs_in1k_160.py', 160, 182),
                                               ('uniformer_xs_in1k_192.py', 192, 219)])
def test_configs(cfg, size, resize):
    pytest.importorskip('mmpretrain')
    from mmengine.config import Config
    cfg = Config.fromfile(CFG_DIR + cfg)
    train = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    test = {t['type']: t for t in cfg.test_dataloader.dataset.pipeline}
    assert train['RandomResizedCrop']['scale'] == size
    assert test['ResizeEdge']['scale'] == resize and test['ResizeEdge']['edge'] == 'short'
    assert test['ResizeEdge']['interpolation'] == 'bicubic'
    assert test['CenterCrop']['crop_size'] == size
    assert cfg.train_cfg.max_epochs == 600 and cfg.param_scheduler[-1]['end'] == 600
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook']
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.model.neck is None and cfg.model.backbone.out_score_token
