"""UniFormer backbones as mmdet multi-scale feature extractors (object_detection/ of the
official release): shapes at odd sizes, stage-3 modes, and the backbone contract
(frozen_stages, norm_eval, with_cp) inside a detector built from configs/det."""
import os.path as osp

import pytest
import torch
import torch.nn as nn

pytest.importorskip('mmdet')

from mmuniformer.models.backbones import UniFormer, UniFormerLight  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DET = osp.join(REPO, 'configs', 'det')


def _build_detector(config: str, **backbone):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(DET, config))
    cfg.model.backbone.init_cfg = None  # the ImageNet checkpoint is not shipped
    cfg.model.backbone.update(backbone)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


# Hand-computed map sizes for a 231x187 (H x W) input.
# Plain stem (S/B): k=s=4 then k=s=2 three times: 231 -> 57 -> 28 -> 14 -> 7, 187 -> 46 -> 23 -> 11 -> 5.
# Conv stem (XXS/XS): two 3x3 s2 p1 convs (n -> floor((n - 1) / 2) + 1): 231 -> 116 -> 58,
# 187 -> 94 -> 47; then k=s=2: 58 -> 29 -> 14 -> 7, 47 -> 23 -> 11 -> 5.
S_SHAPES = [(64, 57, 46), (128, 28, 23), (320, 14, 11), (512, 7, 5)]
XXS_SHAPES = [(56, 58, 47), (112, 29, 23), (224, 14, 11), (448, 7, 5)]


@pytest.mark.parametrize('mode', ['global', 'window', 'hybrid'])
def test_small_odd_size_every_stage3_mode(mode):
    model = UniFormer('small', out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode=mode,
                      window_size=14).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 231, 187))
    assert [tuple(o.shape) for o in outs] == [(2, ) + s for s in S_SHAPES]
    assert all(torch.isfinite(o).all() for o in outs)


def test_xxs_odd_size():
    model = UniFormerLight('xxs', out_indices=(0, 1, 2, 3), out_norm='ln').eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 231, 187))
    assert [tuple(o.shape) for o in outs] == [(2, ) + s for s in XXS_SHAPES]
    assert all(torch.isfinite(o).all() for o in outs)


def test_output_layer_norms():
    """Each output passes its own LayerNorm over channels (eps 1e-6): zero mean, unit variance
    per position before the affine part, which starts as the identity."""
    model = UniFormer('small', out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='hybrid')
    model.init_weights()
    model.eval()
    for i, dim in enumerate((64, 128, 320, 512)):
        norm = getattr(model, f'norm{i + 1}')
        assert isinstance(norm, nn.LayerNorm) and norm.normalized_shape == (dim, )
        assert norm.eps == 1e-6
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 96, 128))
    for out in outs:
        torch.testing.assert_close(out.mean(1), torch.zeros_like(out[:, 0]), atol=1e-4, rtol=0)
        torch.testing.assert_close(out.var(1, unbiased=False), torch.ones_like(out[:, 0]),
                                   atol=1e-2, rtol=0)


def test_window_equals_global_when_one_window_covers_the_map():
    """224x224 gives a 14x14 stage-3 map: one 14x14 window is the whole map, no padding."""
    torch.manual_seed(0)
    glob = UniFormer('small', out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='global')
    glob.init_weights()
    x = torch.randn(1, 3, 224, 224)
    results = {}
    for mode in ('window', 'hybrid'):
        other = UniFormer('small', out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode=mode,
                          window_size=14)
        other.load_state_dict(glob.state_dict())
        with torch.no_grad():
            results[mode] = other.eval()(x)
    with torch.no_grad():
        ref = glob.eval()(x)
    for mode, outs in results.items():
        for a, b in zip(outs, ref):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    # 28x28 at 448: four windows differ from global attention
    with torch.no_grad():
        win = UniFormer('small', out_indices=(2, ), out_norm='ln', stage3_mode='window',
                        window_size=14)
        win.load_state_dict(glob.state_dict(), strict=False)
        big = torch.randn(1, 3, 448, 448)
        glob_out = UniFormer('small', out_indices=(2, ), out_norm='ln')
        glob_out.load_state_dict(glob.state_dict(), strict=False)
        diff = (win.eval()(big)[0] - glob_out.eval()(big)[0]).abs().max()
    assert diff > 1e-2


@pytest.mark.parametrize('arch,depth,expected', [
    # official object_detection/mmdet/models/backbones/uniformer.py: block i of stage 3 is
    # global when (i + 1) % 4 == 0 (paper: S 2 of 8, B 5 of 20 global)
    ('small', 8, [3, 7]),
    ('base', 20, [3, 7, 11, 15, 19]),
])
def test_hybrid_global_blocks(arch, depth, expected):
    model = UniFormer(arch, out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='hybrid',
                      window_size=14)
    assert len(model.blocks3) == depth
    glob = [i for i, blk in enumerate(model.blocks3) if blk.window_size is None]
    assert glob == expected
    assert all(blk.window_size == 14 for i, blk in enumerate(model.blocks3) if i not in expected)
    assert all(blk.window_size is None for blk in model.blocks4)


def test_frozen_stages_in_detector():
    model = _build_detector('mask_rcnn_uniformer_s_h14_1x.py', frozen_stages=1)
    model.train()
    bb = model.backbone
    frozen = [bb.patch_embed1, bb.blocks1, bb.norm1, bb.patch_embed2, bb.blocks2, bb.norm2]
    trained = [bb.patch_embed3, bb.blocks3, bb.norm3, bb.patch_embed4, bb.blocks4, bb.norm4,
               model.neck, model.rpn_head, model.roi_head]
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    for module in trained:
        assert module.training
        assert all(p.requires_grad for p in module.parameters())
    # frozen BatchNorms keep their statistics through a training forward
    bn = bb.blocks1[0].norm1
    before = bn.running_mean.clone()
    bb(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(bn.running_mean, before)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert not any(n.startswith(('backbone.blocks1.', 'backbone.blocks2.')) for n in trainable)


@pytest.mark.parametrize('norm_eval', [False, True])
def test_norm_eval_in_light_detector(norm_eval):
    model = _build_detector('mask_rcnn_uniformer_xxs_1x.py', norm_eval=norm_eval)
    model.train()
    bns = [m for m in model.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 2 + 2 * (2 + 5)  # conv stem (2) and two per local block (2 + 5 blocks)
    assert all(bn.training != norm_eval for bn in bns)
    before = [bn.running_mean.clone() for bn in bns]
    model.backbone(torch.randn(2, 3, 64, 64))
    changed = [not torch.equal(b, bn.running_mean) for b, bn in zip(before, bns)]
    assert all(c != norm_eval for c in changed)
    assert all(m.training for m in (model.neck, model.rpn_head, model.roi_head))


def test_with_cp_in_detector(monkeypatch):
    """Gradient checkpointing changes neither the features nor the gradients, and does run."""
    import torch.utils.checkpoint as cp
    torch.manual_seed(0)
    plain = _build_detector('mask_rcnn_uniformer_s_h14_1x.py', with_cp=False, drop_path_rate=0.)
    ckpt = _build_detector('mask_rcnn_uniformer_s_h14_1x.py', with_cp=True, drop_path_rate=0.)
    ckpt.load_state_dict(plain.state_dict())
    calls = []
    real = cp.checkpoint

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cp, 'checkpoint', counting)
    x = torch.randn(1, 3, 64, 96)
    grads = []
    for model in (plain, ckpt):
        model.train()
        feats = model.extract_feat(x.clone().requires_grad_())
        sum(f.square().mean() for f in feats).backward()
        grads.append({n: p.grad.clone() for n, p in model.backbone.named_parameters()
                      if p.grad is not None})
    assert len(calls) == sum(len(getattr(ckpt.backbone, f'blocks{i}')) for i in range(1, 5))
    assert grads[0].keys() == grads[1].keys()
    assert len(grads[0]) == sum(1 for _ in plain.backbone.parameters())
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('config', ['mask_rcnn_uniformer_s_h14_1x.py', 'mask_rcnn_uniformer_xxs_1x.py'])
def test_roi_features_equal_torchvision_roi_align(config):
    """The box and mask heads' RoI features (mmcv's RoIAlign on the FPN maps) equal
    torchvision's ``roi_align``, an independent implementation that reads any memory
    layout. mmcv 2.1's RoIAlign reads raw channels-first memory: if the backbone returned
    its channels-last maps, the FPN outputs would be channels-last and every RoI feature
    scrambled (the detector then cannot learn its box classifier)."""
    from torchvision.ops import roi_align
    torch.manual_seed(0)
    model = _build_detector(config).eval()
    rois = torch.tensor([[0, 8., 12., 60., 90.], [0, 30., 5., 100., 40.], [1, 2., 3., 250., 190.],
                         [1, 0., 0., 120., 200.]])
    with torch.no_grad():
        outs = model.backbone(torch.randn(2, 3, 224, 256))
        assert all(o.is_contiguous() for o in outs)
        feats = model.neck(outs)
        extractor = model.roi_head.bbox_roi_extractor
        got = extractor(feats[:extractor.num_inputs], rois)
        levels = extractor.map_roi_levels(rois, extractor.num_inputs)
        assert len(set(levels.tolist())) > 1  # several FPN levels are read
        for i, level in enumerate(levels.tolist()):
            layer = extractor.roi_layers[level]
            expected = roi_align(feats[level], rois[i:i + 1], layer.output_size, layer.spatial_scale,
                                 layer.sampling_ratio, layer.aligned)
            torch.testing.assert_close(got[i:i + 1], expected, rtol=1e-5, atol=1e-5)
