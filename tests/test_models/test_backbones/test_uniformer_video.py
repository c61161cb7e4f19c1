"""Video (3-D) UniFormer: shapes, split/std options, inflation, official and mmaction2
checkpoints, the converter for mmaction2 recognizers, Recognizer3D + I3DHead, the
backbone contract (frozen stages, norm_eval, checkpointing) and params/FLOPs.

Official-layout video checkpoints are built here with random weights and the
official key names (the image keys with 5-D kernels, as Sense-X/UniFormer
video_classification/slowfast/models/uniformer.py names them), and checked against
the functional reference of the official video forward in ``tests/reference_uniformer.py``
(plain ``torch.nn.functional``, no mmuniformer).
"""
import copy
import importlib.util
import math
from pathlib import Path
from typing import Dict, Tuple

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmuniformer.analysis import analyze_model, count_params_flops
from mmuniformer.apis import build_model_from_config
from mmuniformer.checkpoint import (convert_to_model, inflate_2d_to_3d, load_uniformer_checkpoint,
                                    official_to_ours)
from mmuniformer.models.backbones import UniFormer
from mmuniformer.models.layers import SplitGlobalBlock

from mmuniformer.models.layers import set_fused
from tests.conftest import load_module, randomise_bn
from tests.reference_uniformer import (official_video_shapes, random_official_state_dict,
                                       reference_video_forward)

StateDict = Dict[str, torch.Tensor]
ROOT = Path(__file__).resolve().parents[3]
TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


def _tiny(**kwargs) -> UniFormer:
    return UniFormer(arch=kwargs.pop('arch', TINY), ndim=3, **kwargs)


def _official(split: bool = False, std: bool = False, seed: int = 0) -> StateDict:
    return random_official_state_dict(
        official_video_shapes(TINY['depths'], TINY['embed_dims'], split=split, std=std), seed=seed)


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize('frames', [1, 8, 16])
def test_video_shapes(frames):
    torch.manual_seed(0)
    model = _tiny(out_indices=(0, 1, 2, 3), out_norm='ln').eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, frames, 64, 64))
    t = (frames + 1) // 2  # stage-1 temporal stride 2 with padding 1
    assert [tuple(o.shape) for o in outs] == [(2, 16, t, 16, 16), (2, 32, t, 8, 8), (2, 64, t, 4, 4),
                                             (2, 128, t, 2, 2)]
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('kwargs', [{}, dict(split=True), dict(std=True)])
def test_odd_sizes(kwargs):
    torch.manual_seed(0)
    model = _tiny(out_indices=(0, 1, 2, 3), **kwargs).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 8, 112, 137))
    assert [tuple(o.shape[2:]) for o in outs] == [(4, 28, 34), (4, 14, 17), (4, 7, 8), (4, 3, 4)]
    assert all(torch.isfinite(o).all() for o in outs)


def test_single_tensor_output_and_single_frame():
    model = _tiny(out_tuple=False).eval()
    out = model(torch.randn(1, 3, 1, 32, 32))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 128, 1, 1, 1)
    with pytest.raises(ValueError, match='exactly one out index'):
        _tiny(out_indices=(2, 3), out_tuple=False)


@pytest.mark.parametrize('shape, message', [
    ((1, 3, 8, 16, 64), r'too small: stage 4 would have an empty feature map \(T, H, W = \(4, 0, 2\)\)'),
    ((1, 3, 0, 64, 64), 'too small'),
    ((1, 3, 64, 64), r'expects video \(B, C, T, H, W\)'),
    ((1, 1, 8, 64, 64), 'built for 3 input channels'),
])
def test_bad_inputs(shape, message):
    with pytest.raises(ValueError, match=message):
        _tiny()(torch.randn(*shape))


@pytest.mark.parametrize('kwargs, message', [
    (dict(split=True), r"\['split'\] are video options"),
    (dict(std=True), r"\['std'\] are video options"),
])
def test_video_options_rejected_for_images(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UniFormer(TINY, **kwargs)
    with pytest.raises(ValueError, match='ndim=3'):
        SplitGlobalBlock(16, 2, ndim=2)


def test_std_embeds():
    with pytest.raises(ValueError, match='std=True changes the plain stem'):
        _tiny(arch=dict(TINY, stem='conv'), std=True)
    model = _tiny(std=True, out_indices=(0, 1, 2, 3)).eval()
    plain = _tiny(out_indices=(0, 1, 2, 3))
    for i in (2, 3, 4):
        conv = getattr(model, f'patch_embed{i}').proj
        assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 2, 2), (1, 2, 2), (1, 0, 0))
        assert getattr(plain, f'patch_embed{i}').proj.kernel_size == (1, 2, 2)
    assert model.patch_embed1.proj.kernel_size == (3, 4, 4) and model.patch_embed1.proj.stride == (2, 4, 4)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 6, 64, 64))
        assert [tuple(o.shape[2:]) for o in outs] == [(3, 16, 16), (3, 8, 8), (3, 4, 4), (3, 2, 2)]
        # the std embed mixes neighbouring frames; the default one embeds each frame alone
        z = torch.zeros(1, 16, 3, 8, 8)
        z[:, :, 0] = torch.randn(1, 16, 8, 8)
        for embed, mixes in ((model.patch_embed2.proj, True), (plain.patch_embed2.proj, False)):
            frame1 = embed(z)[:, :, 1] - embed.bias.view(1, -1, 1, 1)
            assert (frame1.abs().max() > 1e-3) == mixes


# ----------------------------------------------------------------------------- split attention
def test_split_block_equals_hand_computation():
    torch.manual_seed(0)
    blk = SplitGlobalBlock(16, 2).eval()
    for p in blk.t_attn.parameters():  # leave the zero init: a non-trivial temporal branch
        nn.init.normal_(p, std=0.3)
    b, c, t, h, w = 2, 16, 3, 2, 3
    x = torch.randn(b, c, t, h, w)
    with torch.no_grad():
        out = blk(x)
        x1 = x + blk.pos_embed(x)
        u = x1.clone()  # temporal attention, one sequence of T tokens per (b, h, w)
        for bi in range(b):
            for hi in range(h):
                for wi in range(w):
                    seq = x1[bi, :, :, hi, wi].t()[None]  # (1, T, C)
                    u[bi, :, :, hi, wi] = (seq + blk.t_attn(blk.t_norm(seq)))[0].t()
        y = x1.clone()  # spatial attention per frame on u, residual from x1
        for bi in range(b):
            for ti in range(t):
                frame = u[bi, :, ti].reshape(c, h * w).t()[None]  # (1, H*W, C)
                y[bi, :, ti] = x1[bi, :, ti] + blk.attn(blk.norm1(frame))[0].t().reshape(c, h, w)
        tok = y.permute(0, 2, 3, 4, 1).reshape(b, t * h * w, c)
        tok = tok + blk.mlp(blk.norm2(tok))
        expect = tok.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)
    torch.testing.assert_close(out, expect, atol=1e-5, rtol=1e-5)


def test_split_init():
    model = _tiny(split=True)
    model.init_weights()  # the generic init (TruncNormal on Linear) must not undo it
    blocks = list(model.blocks3) + list(model.blocks4)
    assert all(isinstance(b, SplitGlobalBlock) for b in blocks)
    for blk in blocks:
        assert torch.all(blk.t_attn.qkv.weight == 0) and torch.all(blk.t_attn.qkv.bias == 0)
        assert torch.all(blk.t_attn.proj.weight == 1) and torch.all(blk.t_attn.proj.bias == 0)
        assert blk.attn.qkv.weight.std() > 0.01  # the spatial attention got the generic init
    # the temporal branch starts at zero: the block equals spatial attention per frame ...
    blk = blocks[0].eval()
    x = torch.randn(1, 64, 3, 2, 2, requires_grad=True)
    x1 = x + blk.pos_embed(x)
    frames = x1.permute(0, 2, 3, 4, 1).reshape(3, 4, 64)
    y = frames + blk.attn(blk.norm1(frames))
    y = y.reshape(1, 12, 64)
    y = y + blk.mlp(blk.norm2(y))
    torch.testing.assert_close(blk(x), y.reshape(1, 3, 2, 2, 64).permute(0, 4, 1, 2, 3))
    # ... and its v projection still receives gradients (proj weight 1)
    blk(x).pow(2).sum().backward()
    assert blk.t_attn.qkv.weight.grad[128:].abs().sum() > 0


def test_split_and_joint_agree_on_explicit_attention():
    torch.manual_seed(0)
    model = _tiny(split=True).eval()
    for blk in model.blocks3:
        for p in blk.t_attn.parameters():
            nn.init.normal_(p, std=0.2)
    x = torch.randn(1, 3, 4, 64, 64)
    with torch.no_grad():
        fused = model(x)[0]
        set_fused(model, False, 'attention')
        explicit = model(x)[0]
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- inflation
def test_inflate_function_hand_computation():
    w2 = torch.randn(4, 2, 3, 3)
    target = {'k': torch.zeros(4, 2, 5, 3, 3), 'same': torch.zeros(3), 'other': torch.zeros(4, 2, 1, 1, 1)}
    avg, keys = inflate_2d_to_3d({'k': w2, 'same': torch.ones(3), 'other': torch.ones(4, 2, 2, 2)}, target)
    assert keys == ['k'] and avg['other'].shape == (4, 2, 2, 2)  # non-matching kernels untouched
    for t in range(5):
        torch.testing.assert_close(avg['k'][:, :, t], w2 / 5)
    torch.testing.assert_close(avg['k'].sum(2), w2)
    cen, _ = inflate_2d_to_3d({'k': w2}, target, 'center')
    torch.testing.assert_close(cen['k'][:, :, 2], w2)
    assert cen['k'][:, :, [0, 1, 3, 4]].abs().sum() == 0
    with pytest.raises(ValueError, match="'average' or 'center'"):
        inflate_2d_to_3d({'k': w2}, target, 'mean')


def _image_checkpoint(tmp_path: Path, arch: dict, layout: str, seed: int = 0) -> Tuple[Path, StateDict]:
    """A 2-D ImageNet checkpoint: ``official`` (``{'model': ...}`` with ``head``) or
    ``ours`` (an mmpretrain classifier's ``{'state_dict': backbone.* + head.fc.*}``)."""
    torch.manual_seed(seed)
    image = randomise_bn(UniFormer(arch))
    image.init_weights()
    sd = {k: v.clone() for k, v in image.state_dict().items()}
    c = arch['embed_dims'][-1]
    if layout == 'official':
        ckpt = {'model': dict(sd, **{'head.weight': torch.randn(1000, c), 'head.bias': torch.zeros(1000)})}
    else:
        head = {'head.fc.weight': torch.randn(1000, c), 'head.fc.bias': torch.zeros(1000)}
        ckpt = {'state_dict': dict({f'backbone.{k}': v for k, v in sd.items()}, **head)}
    path = tmp_path / f'{layout}_in1k.pth'
    torch.save(ckpt, path)
    return path, sd


@pytest.mark.parametrize('layout', ['official', 'ours'])
@pytest.mark.parametrize('mode', ['average', 'center'])
def test_image_weights_inflate_into_video(tmp_path, layout, mode):
    path, sd2 = _image_checkpoint(tmp_path, TINY, layout)
    model = _tiny(inflate=mode, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    report = load_uniformer_checkpoint(model, str(path))
    assert report.missing == [] and report.unexpected == []
    model.init_weights()  # the same, through init_cfg (as mmaction2 calls it)
    sd3 = model.state_dict()
    assert set(sd3) == set(sd2)
    for key, w3 in sd3.items():
        w2 = sd2[key]
        if w3.dim() != 5:  # LayerNorm, BatchNorm (incl. running stats), Linear: carried over
            assert torch.equal(w3, w2), key
            continue
        kt = w3.shape[2]
        expect = (w2.unsqueeze(2).repeat(1, 1, kt, 1, 1) / kt if mode == 'average' else
                  torch.stack([w2 if t == kt // 2 else torch.zeros_like(w2) for t in range(kt)], 2))
        torch.testing.assert_close(w3, expect, msg=key)
    assert model.patch_embed1.proj.weight.shape[2] == 3 and model.blocks1[0].attn.weight.shape[2] == 5


def test_inflation_and_head_are_logged(tmp_path):
    import logging

    from mmengine.logging import MMLogger
    path, _ = _image_checkpoint(tmp_path, TINY, 'official')
    logger = MMLogger.get_instance('test_video_inflation', log_level='INFO')
    records = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    try:
        load_uniformer_checkpoint(_tiny(), str(path), logger=logger)
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(records)
    assert 'dropped 2 checkpoint tensors outside the backbone: head.* (2)' in text
    assert 'inflated' in text and '(average)' in text


def test_split_model_from_image_weights_keeps_temporal_init(tmp_path):
    path, _ = _image_checkpoint(tmp_path, TINY, 'official')
    model = _tiny(split=True, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for blk in list(model.blocks3) + list(model.blocks4):
        assert torch.all(blk.t_attn.qkv.weight == 0) and torch.all(blk.t_attn.proj.weight == 1)
        assert torch.all(blk.t_norm.weight == 1)


def test_constant_video_matches_image_model(tmp_path):
    """A video of one repeated frame through an inflated model vs the 2-D model on the frame.

    ``center``: every temporal kernel applies the 2-D kernel to the current frame only,
    and joint attention over ``T`` copies of each token equals attention over one copy
    (each key's weight is split evenly over its copies): equal at every stage and frame.
    ``average``: ``sum_t (W / k_t) * frame = W * frame`` wherever the temporal window lies
    inside the clip, but the zero temporal padding at the clip's ends removes taps there
    (e.g. the first stage-1 frame sees 2/3 of the kernel). Each local block widens this
    edge by 3 frames (3x3x3 DPE then 5x5x5 aggregator), so with one block per stage and
    32 input frames the stage-1 frames 4..12 of 16 and the stage-2 frames 7..9 are exact,
    and the edge frames differ (global stages mix all frames: no exact frame there).
    """
    arch = dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
    path, _ = _image_checkpoint(tmp_path, arch, 'official', seed=1)
    image = UniFormer(arch, out_indices=(0, 1, 2, 3), init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    image.init_weights()
    frame = torch.randn(1, 3, 64, 64)
    video = frame[:, :, None].repeat(1, 1, 32, 1, 1)
    with torch.no_grad():
        ref = image.eval()(frame)
        outs = {}
        for mode in ('average', 'center'):
            model = UniFormer(arch, ndim=3, out_indices=(0, 1, 2, 3), inflate=mode,
                              init_cfg=dict(type='Pretrained', checkpoint=str(path)))
            model.init_weights()
            outs[mode] = model.eval()(video)
    for i in range(4):
        for t in range(16):
            torch.testing.assert_close(outs['center'][i][:, :, t], ref[i], atol=1e-4, rtol=1e-4)
    avg = outs['average']
    exact = {0: range(4, 13), 1: range(7, 10)}
    for i, frames in exact.items():
        for t in range(16):
            diff = (avg[i][:, :, t] - ref[i]).abs().max().item()
            if t in frames:
                assert diff < 1e-4, (i, t, diff)
            elif t in (0, 15):
                assert diff > 1e-3, (i, t, diff)  # clip edges: zero temporal padding


# ----------------------------------------------------------------------------- video checkpoints
@pytest.mark.parametrize('wrapper', ['model_state', 'model'])
@pytest.mark.parametrize('variant', [{}, dict(split=True), dict(std=True)])
def test_official_video_checkpoint(tmp_path, wrapper, variant):
    official = _official(**variant, seed=2)
    path = tmp_path / 'official_k400.pth'
    torch.save({wrapper: official, 'epoch': 10}, path)
    model = _tiny(out_tuple=False, init_cfg=dict(type='Pretrained', checkpoint=str(path)), **variant)
    report = load_uniformer_checkpoint(model, str(path))
    assert report.missing == [] and report.unexpected == []
    model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, official[key]), key  # 3-D kernels: nothing inflated
    x = torch.randn(2, 3, 8, 64, 96, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        feats = model.eval()(x)
        ref_feats, ref_logits = reference_video_forward(official, x, TINY['depths'], TINY['head_dim'])
        logits = F.linear(feats.flatten(2).mean(-1), official['head.weight'], official['head.bias'])
    assert (feats - ref_feats).abs().max() < 1e-4
    assert (logits - ref_logits).abs().max() < 1e-4


def test_video_checkpoint_into_image_model_is_explained(tmp_path):
    path = tmp_path / 'official_k400.pth'
    torch.save({'model_state': _official()}, path)
    with pytest.raises(ValueError, match='5-D \\(video\\) kernels: build the backbone with ndim=3'):
        load_uniformer_checkpoint(UniFormer(TINY), str(path))
    with pytest.raises(ValueError, match='std and temporal_kernel'):
        load_uniformer_checkpoint(_tiny(std=True), str(path))


def _mmaction_builtin_checkpoint(official: StateDict) -> dict:
    """Layout of mmaction2's converted UniFormer weights: ``backbone.`` + official keys,
    the classifier as ``cls_head.fc_cls``."""
    sd = {f'backbone.{k}': v for k, v in official.items() if not k.startswith('head.')}
    sd['cls_head.fc_cls.weight'] = official['head.weight']
    sd['cls_head.fc_cls.bias'] = official['head.bias']
    return {'state_dict': sd, 'meta': {}}


def test_mmaction_builtin_checkpoint_loads_into_backbone(tmp_path):
    official = _official(seed=4)
    path = tmp_path / 'mmaction_uniformer.pth'
    torch.save(_mmaction_builtin_checkpoint(official), path)
    model = _tiny()
    report = load_uniformer_checkpoint(model, str(path))
    assert report.missing == [] and report.unexpected == []
    assert all(torch.equal(v, official[k]) for k, v in model.state_dict().items())


# ----------------------------------------------------------------------------- mmaction2
needs_mmaction = pytest.mark.skipif(importlib.util.find_spec('mmaction') is None,
                                    reason='mmaction2 is not installed')


def _recognizer_cfg(backbone: dict, num_classes: int = 400) -> dict:
    arch = backbone.get('arch', 'small')
    width = arch['embed_dims'][-1] if isinstance(arch, dict) else 512
    return dict(
        type='Recognizer3D',
        backbone=dict(dict(type='mmuniformer.UniFormer', ndim=3, out_tuple=False), **backbone),
        cls_head=dict(type='I3DHead', in_channels=width, num_classes=num_classes, dropout_ratio=0.5,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[114.75] * 3, std=[57.375] * 3,
                               format_shape='NCTHW'))


def _build_recognizer(cfg: dict) -> nn.Module:
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


@needs_mmaction
def test_recognizer3d_loss_and_predict():
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    model = _build_recognizer(_recognizer_cfg(dict(arch=TINY, drop_path_rate=0.1), num_classes=5))
    model.init_weights()
    assert type(model.backbone).__module__.startswith('mmuniformer')
    # per sample (num_clips, C, T, H, W); training takes one clip
    clips = [torch.randint(0, 256, (1, 3, 8, 64, 64), dtype=torch.uint8) for _ in range(2)]
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
    model.train()
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) >= {'loss_cls'}
    # untrained (I3DHead init std 0.01): an almost uniform 5-way prediction, CE = ln(5)
    assert losses['loss_cls'].item() == pytest.approx(math.log(5), rel=0.02)
    losses['loss_cls'].backward()
    assert model.backbone.patch_embed1.proj.weight.grad.abs().sum() > 0
    assert model.cls_head.fc_cls.weight.grad.abs().sum() > 0
    model.eval()
    clips = [torch.randint(0, 256, (3, 3, 8, 64, 64), dtype=torch.uint8) for _ in range(2)]  # 3 test clips
    preds = model.test_step(dict(inputs=clips, data_samples=[ActionDataSample().set_gt_label(1)
                                                             for _ in range(2)]))
    assert len(preds) == 2
    for pred in preds:
        assert pred.pred_score.shape == (5, )
        torch.testing.assert_close(pred.pred_score.sum(), torch.tensor(1.))  # clip-averaged probs


def _write_config(tmp_path: Path, **backbone) -> Path:
    cfg = dict(default_scope='mmaction',
               custom_imports=dict(imports=['mmuniformer'], allow_failed_imports=False),
               model=_recognizer_cfg(dict(arch=TINY, **backbone)))
    path = tmp_path / 'recognizer_tiny.py'
    path.write_text('\n'.join(f'{k} = {v!r}' for k, v in cfg.items()) + '\n')
    return path


@needs_mmaction
@pytest.mark.parametrize('variant', [{}, dict(split=True)])
def test_convert_official_video_for_recognizer3d(tmp_path, variant):
    """``tools/convert_official.py --config <Recognizer3D config>`` maps ``head.*`` to
    ``cls_head.fc_cls.*``; the result loads strictly, as ``mim test`` does, and the
    recognizer's logits equal the official model's."""
    from mmengine.runner import load_checkpoint
    official = _official(seed=5, **variant)
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'model_state': official}, src)
    config = _write_config(tmp_path, **variant)
    tool = load_module(ROOT / 'tools' / 'convert_official.py')
    tool.main([str(src), str(dst), '--config', str(config)])
    ckpt = torch.load(dst, map_location='cpu')
    model = build_model_from_config(str(config))[0].eval()
    assert list(ckpt['state_dict']) == list(model.state_dict())
    assert torch.equal(ckpt['state_dict']['cls_head.fc_cls.weight'], official['head.weight'])
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)  # raises on missing keys
    # the converter's mapping is the pure function of mmuniformer.checkpoint
    mapped = official_to_ours(official, 'mmaction').state
    assert all(torch.equal(ckpt['state_dict'][k], v) for k, v in mapped.items())
    x = torch.randn(1, 1, 3, 8, 64, 64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        logits = model(x, mode='tensor', stage='head')
        ref = reference_video_forward(official, x[:, 0], TINY['depths'], TINY['head_dim'])[1]
    assert (logits - ref).abs().max() < 1e-4
    # mmaction2's own converted layout loads with no missing keys too
    torch.save(_mmaction_builtin_checkpoint(official), src)
    fresh = build_model_from_config(str(config))[0]
    load_checkpoint(fresh, str(src), map_location='cpu', strict=True)


@needs_mmaction
def test_convert_image_checkpoint_for_video_config_is_explained(tmp_path):
    path, _ = _image_checkpoint(tmp_path, TINY, 'official')
    config = _write_config(tmp_path)
    model = build_model_from_config(str(config))[0]
    with pytest.raises(ValueError, match='image \\(2-D\\) checkpoint'):
        convert_to_model(torch.load(path), model, 'mmaction')


# ----------------------------------------------------------------------------- contract
def test_frozen_stages_and_norm_eval_3d():
    model = _tiny(frozen_stages=1, norm_eval=True, out_indices=(0, 1, 2, 3))
    model.train()
    for i in (1, 2):
        for name in (f'patch_embed{i}', f'blocks{i}'):
            mod = getattr(model, name)
            assert not mod.training and all(not p.requires_grad for p in mod.parameters())
    assert all(p.requires_grad for p in model.blocks3.parameters())
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm3d)]
    assert len(bns) == 5 and all(not m.training for m in bns)  # 2 per local block + final norm
    before = copy.deepcopy(model.norm.running_mean)
    model(torch.randn(2, 3, 4, 64, 64))
    torch.testing.assert_close(model.norm.running_mean, before)
    model = _tiny(frozen_stages=3).train()
    assert not model.norm.training and not model.norm.weight.requires_grad
    model = _tiny(frozen_stages=0).train()
    assert model.blocks2[0].norm1.training and not model.blocks1[0].norm1.training


@pytest.mark.parametrize('split', [False, True])
def test_with_cp_same_outputs_and_grads_3d(split):
    torch.manual_seed(0)
    ref = _tiny(out_indices=(1, 3), split=split)
    if split:  # away from the zero init, where q and k get no gradient
        for blk in list(ref.blocks3) + list(ref.blocks4):
            for p in blk.t_attn.parameters():
                nn.init.normal_(p, std=0.2)
    cpm = _tiny(out_indices=(1, 3), split=split, with_cp=True)
    cpm.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 4, 64, 64, requires_grad=True)
    outs_ref, outs_cp = ref.train()(x), cpm.train()(x)
    for a, b in zip(outs_ref, outs_cp):
        torch.testing.assert_close(a, b)
    sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum() for o in outs_ref).backward()
    sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum() for o in outs_cp).backward()
    for (name, p), q in zip(ref.named_parameters(), cpm.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ref.parameters())


# ----------------------------------------------------------------------------- params / FLOPs
class _VideoClassifier(nn.Module):
    """Backbone + mean over T, H, W + Linear head: the official video classifier."""

    def __init__(self, arch: str, num_classes: int = 400) -> None:
        super().__init__()
        self.backbone = UniFormer(arch, ndim=3, out_tuple=False)
        self.head = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x).flatten(2).mean(-1))


@needs_mmaction
def test_params_flops_video_small_16x224_recognizer():
    """fvcore on the official video model (video_classification/slowfast/models/uniformer.py),
    small, K400 head, 16x224^2: 21.40M / 41.76 G (about 10 s on CPU)."""
    model = _build_recognizer(_recognizer_cfg(dict(arch='small')))
    report = analyze_model(model, torch.randn(1, 3, 16, 224, 224))
    assert 'cls_head' in report.forward
    assert report.complexity.total_params / 1e6 == pytest.approx(21.40, rel=0.01)
    assert report.complexity.flops / 1e9 == pytest.approx(41.76, rel=0.01)


def test_params_flops_video_base_32x224():
    """fvcore on the official video model (video_classification/slowfast/models/uniformer.py),
    base, K400 head, 32x224^2: 49.81M / 258.63 G (18-45 s on 2 CPU cores, under the 60 s
    bound for ``slow``)."""
    params, flops = count_params_flops(_VideoClassifier('base'), torch.randn(1, 3, 32, 224, 224))
    assert params / 1e6 == pytest.approx(49.81, rel=0.01)
    assert flops / 1e9 == pytest.approx(258.63, rel=0.01)
