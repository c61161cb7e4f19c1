"""Train global, test window/hybrid (paper Sec. 5.3 / the released test_config_{h32,w32}.py) in the
segmentors configs/seg builds, and odd input sizes through the whole segmentor in every mode.

The configs' models are built with a shallow stage layout (1/1/4/1 blocks, UniFormer-S widths
and heads; 4 stage-3 blocks: hybrid = 3 windowed + 1 global, as in every group of 4 of S/B),
no drop path or dropout (deterministic in training mode) and plain BatchNorm (one process),
to keep CPU time small; everything else is the config's.
"""
import os.path as osp

import pytest
import torch

pytest.importorskip('mmseg')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHALLOW = dict(depths=(1, 1, 4, 1), embed_dims=(64, 128, 320, 512), head_dim=64)


def _build(config, shallow=True, **backbone):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    import mmuniformer  # noqa: F401
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'seg', config))
    cfg.model.backbone.init_cfg = None
    if shallow:
        cfg.model.backbone.arch = SHALLOW
    if 'drop_path_rate' in cfg.model.backbone or shallow:
        cfg.model.backbone.drop_path_rate = 0.
    cfg.model.backbone.update(backbone)
    for head in ('decode_head', 'auxiliary_head'):
        if cfg.model.get(head):
            cfg.model[head].update(norm_cfg=dict(type='BN', requires_grad=True), dropout_ratio=0.)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _logits(model, x):
    with torch.no_grad():
        return model(x, mode='tensor')


def test_mode_switch_changes_no_weight_and_round_trips():
    """Training mode of the h32 config is global attention (equal to the global config's model
    with the same weights); going through evaluation mode (h32) and back changes no parameter
    and gives identical training-mode outputs."""
    model = _build('fpn_uniformer_s_h32_80k.py')
    reference = _build('fpn_uniformer_s_80k.py')
    reference.load_state_dict(model.state_dict(), strict=True)  # the same keys: no mode weights
    x = torch.randn(2, 3, 64, 544)  # stage-3 map 4x34: wider than one 32-window
    params = {k: v.clone() for k, v in model.named_parameters()}

    before = _logits(model.train(), x)  # BatchNorms use the batch statistics in training mode
    _logits(model.eval(), x)
    after = _logits(model.train(), x)
    assert torch.equal(before, after)
    for name, value in model.named_parameters():
        assert torch.equal(value, params[name]), name
    assert torch.equal(before, _logits(reference.train(), x))


def test_h32_evaluation_against_global_and_a_model_built_hybrid():
    """In evaluation mode the h32 config equals a model built hybrid with 32-windows (same
    weights), differs from global attention on a stage-3 map wider than one window and on one
    that the official zero padding (no mask) fills up to a window, and equals global on a map of
    exactly one window (a 512x512 crop: 32x32 stage-3 tokens)."""
    model = _build('fpn_uniformer_s_h32_80k.py').eval()
    glob = _build('fpn_uniformer_s_80k.py').eval()
    built = _build('fpn_uniformer_s_80k.py', stage3_mode='hybrid', window_size=32).eval()
    state = model.state_dict()
    glob.load_state_dict(state, strict=True)
    built.load_state_dict(state, strict=True)

    wide = torch.randn(1, 3, 64, 544)  # stage-3 map 4x34: two windows across
    h32 = _logits(model, wide)
    torch.testing.assert_close(h32, _logits(built, wide), rtol=0, atol=1e-5)
    assert (h32 - _logits(glob, wide)).abs().max() > 1e-3

    padded = torch.randn(1, 3, 64, 480)  # stage-3 map 4x30: one window after zero padding
    assert (_logits(model, padded) - _logits(glob, padded)).abs().max() > 1e-3

    window = torch.randn(1, 3, 512, 512)  # stage-3 map 32x32: exactly one window
    with torch.no_grad():
        for a, b in zip(model.backbone(window), glob.backbone(window)):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def _predict(model, image):
    """``model.test_step`` on one uint8 image ``(3, H, W)`` (the data preprocessor included)."""
    from mmseg.structures import SegDataSample
    h, w = image.shape[-2:]
    sample = SegDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w),
                                         scale_factor=(1., 1.), img_path='odd.jpg'))
    with torch.no_grad():
        return model.test_step(dict(inputs=[image], data_samples=[sample]))[0]


@pytest.mark.parametrize('config,mode', [
    ('fpn_uniformer_s_80k.py', 'whole'),
    ('fpn_uniformer_s_h32_80k.py', 'whole'),
    ('fpn_uniformer_s_w32_80k.py', 'whole'),
    ('fpn_uniformer_s_h14_80k.py', 'whole'),
    ('upernet_uniformer_s_h32_160k.py', 'whole'),
    ('upernet_uniformer_s_w32_160k.py', 'slide'),
    ('fpn_uniformer_xxs_80k.py', 'whole'),
])
def test_odd_size_through_the_segmentor(config, mode):
    """A 517x389 image (no side a multiple of 2, so every stage rounds down and the 32x24 /
    17x13 maps need window padding) gives a prediction of its own size in every stage-3 mode,
    with whole-image and sliding-window inference."""
    model = _build(config, shallow='xxs' not in config)
    if mode == 'slide':
        from mmengine.config import ConfigDict
        model.test_cfg = ConfigDict(mode='slide', crop_size=(256, 256), stride=(171, 171))
    model.eval()
    image = torch.randint(0, 256, (3, 517, 389), dtype=torch.uint8)
    pred = _predict(model, image)
    assert pred.seg_logits.data.shape == (150, 517, 389)
    assert torch.isfinite(pred.seg_logits.data).all()
    labels = pred.pred_sem_seg.data
    assert labels.shape == (1, 517, 389) and 0 <= labels.min() and labels.max() < 150
    assert torch.equal(labels[0], pred.seg_logits.data.argmax(0))
