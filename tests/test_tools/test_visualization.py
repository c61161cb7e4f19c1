"""Grad-CAM (mmuniformer.visualization.cam, tools/visualize_cam.py) and the light models'
kept tokens (mmuniformer.visualization.tokens, tools/visualize_tokens.py).

Grad-CAM is checked against its definition computed by hand: at the classification output
norm, global average pooling + a linear head make the gradient of logit ``t`` equal to
``W[t, c] / (H W)`` at every position, so the map is ``relu(sum_c W[t, c] A_c)``, normalised.
Kept tokens are checked against the count ``int(N * keep_ratio)`` and against the length of
the sequence each block's attention actually receives (score token + kept + one merged).
"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from tests.conftest import REPO, load_module, randomise_bn
from tests.harness import QS_CONFIGS

CAM_TOOL = load_module(osp.join(REPO, 'tools/visualize_cam.py'))
TOKENS_TOOL = load_module(osp.join(REPO, 'tools/visualize_tokens.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CLS_QS, DET_QS = QS_CONFIGS['cls'], QS_CONFIGS['det']
LIGHT = osp.join(REPO, 'configs/cls/uniformer_xxs_in1k_160.py')
# a small hourglass model at the XXS config's 160x160 test crop: stage 3 is 10x10, stage 4 5x5
TINY_LIGHT = '''_base_ = [{light!r}]
model = dict(
    backbone=dict(arch=dict(_delete_=True, depths=(1, 1, 3, 2), embed_dims=(16, 32, 64, 128),
                            head_dim=16)),
    head=dict(in_channels=128, num_classes=10))
'''


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp('vis') / 'image.png'
    rng = np.random.default_rng(0)
    img = (rng.random((64, 64, 3)) * 80 + 60).astype(np.uint8)
    cv2.circle(img, (22, 40), 12, (230, 60, 200), -1)
    cv2.imwrite(str(path), img)
    return str(path)


def _cls_model(tmp_path):
    from mmuniformer.visualization import load_model
    ckpt = str(tmp_path / 'cls.pth')
    UNTRAINED.main([CLS_QS, ckpt])
    model, cfg, _ = load_model(CLS_QS, ckpt)
    randomise_bn(model)
    return model, cfg, ckpt


def test_grad_cam_at_the_output_norm_matches_the_linear_head(tmp_path, image):
    from mmuniformer.visualization import default_target_layer, image_inputs, model_grad_cam
    model, cfg, _ = _cls_model(tmp_path)
    inputs, picture = image_inputs(model, cfg, image)
    assert inputs.shape == (1, 3, 64, 64) and picture.shape == (64, 64, 3)
    layer = default_target_layer(model)
    assert layer == 'backbone.norm'
    (cam, ), target, logits = model_grad_cam(model, inputs, [layer], target=3)
    assert target == 3 and logits.shape == (8, )
    assert cam.shape == (64, 64)
    assert cam.min() == 0 and abs(float(cam.max()) - 1) < 1e-6
    # by hand: the map the head pools, weighted by the head's row of class 3
    with torch.no_grad():
        feat = model.backbone(inputs)[-1]  # (1, 256, 2, 2), after the BatchNorm
        ref = F.relu(torch.einsum('c,bchw->bhw', model.head.fc.weight[3], feat))
        ref = F.interpolate(ref[:, None], size=(64, 64), mode='bilinear',
                            align_corners=False)[0, 0]
        ref = (ref - ref.min()) / (ref.max() - ref.min())
    torch.testing.assert_close(cam, ref, atol=1e-5, rtol=1e-4)
    # the top-1 class is explained by default, and another class gives another map
    (cam_top, ), top, _ = model_grad_cam(model, inputs, [layer])
    assert top == int(logits.argmax())
    if top != 3:
        assert not torch.allclose(cam_top, cam)


def test_default_target_layers():
    from mmuniformer.apis import build_model_from_config
    from mmuniformer.visualization import default_target_layer
    cls_model = build_model_from_config(CLS_QS)[0]
    assert [default_target_layer(cls_model, s) for s in (1, 2, 3, 4)] == [
        'backbone.blocks1.0', 'backbone.blocks2.0', 'backbone.blocks3.1', 'backbone.norm']
    det_model = build_model_from_config(DET_QS, {'model.backbone.init_cfg': None})[0]
    assert default_target_layer(det_model, 3) == 'backbone.norm3'  # out_norm='ln'
    with pytest.raises(ValueError, match='stage must be 1, 2, 3 or 4'):
        default_target_layer(cls_model, 5)


def test_visualize_cam_cli(tmp_path, image):
    _, _, ckpt = _cls_model(tmp_path)
    out = tmp_path / 'cam.png'
    result = CAM_TOOL.run([CLS_QS, ckpt, image, '--out', str(out),
                           '--layer', 'backbone.blocks2.0', 'backbone.blocks3.1'])
    # input + one panel per layer, 64 enlarged x4 to reach --min-side 224, under a title band
    picture = cv2.imread(str(out))
    assert picture.shape[1:] == (256 * 3, 3) and 256 < picture.shape[0] < 320
    assert [tuple(c.shape) for c in result['cams']] == [(64, 64), (64, 64)]
    for cam in result['cams']:
        assert float(cam.min()) == 0 and abs(float(cam.max()) - 1) < 1e-6
    with pytest.raises(SystemExit, match='no module named'):
        CAM_TOOL.run([CLS_QS, ckpt, image, '--out', str(out), '--layer', 'backbone.blocks9'])
    with pytest.raises(SystemExit, match='explains image classifiers'):
        CAM_TOOL.run([DET_QS, None, image, '--out', str(out), '--cfg-options',
                      'model.backbone.init_cfg=None'])


def test_kept_tokens_of_each_hourglass_block(tmp_path, image):
    from mmuniformer.visualization import hourglass_blocks
    config = tmp_path / 'tiny_light.py'
    config.write_text(TINY_LIGHT.format(light=LIGHT))
    config, ckpt = str(config), str(tmp_path / 'light.pth')
    UNTRAINED.main([config, ckpt])
    # built as mmengine's Runner builds it: with the config's top-level data_preprocessor
    model, cfg, _ = CAM_TOOL.load_model(config, ckpt,
                                        {'model.data_preprocessor': Config.fromfile(config)
                                         .data_preprocessor})
    assert model.data_preprocessor.mean.flatten().tolist() == pytest.approx(
        [123.675, 116.28, 103.53])
    blocks = hourglass_blocks(model)
    assert [n for n, _ in blocks] == ['backbone.blocks3.1', 'backbone.blocks3.2',
                                      'backbone.blocks4.0', 'backbone.blocks4.1']
    from mmuniformer.visualization import image_inputs, record_kept_tokens
    inputs, _ = image_inputs(model, cfg, image)
    with torch.no_grad():
        plain = model(inputs, mode='tensor')
    # the attention of each shrinking block receives score token + kept tokens + 1 merged
    seq_lens = []
    handles = [b.attn.register_forward_pre_hook(lambda m, a: seq_lens.append(a[0].shape[1]))
               for _, b in blocks]
    try:
        with torch.no_grad(), record_kept_tokens(model) as records:
            hooked = model(inputs, mode='tensor')
    finally:
        for h in handles:
            h.remove()
    torch.testing.assert_close(hooked, plain, rtol=0, atol=0)  # the hooks change nothing
    assert [r.grid for r in records] == [(10, 10), (10, 10), (5, 5), (5, 5)]
    kept = [r.kept.shape[1] for r in records]
    assert kept == [int(100 * 0.5), int(100 * 0.5), int(25 * 0.5), int(25 * 0.5)]  # 50, 50, 12, 12
    assert seq_lens == [1 + k + 1 for k in kept]
    for r in records:
        mask = r.mask()
        assert int(mask.sum()) == r.kept.shape[1]
        # the kept tokens are the best-scored ones: every kept score >= every dropped score
        assert r.scores[mask.flatten(1)].min() >= r.scores[~mask.flatten(1)].max()
    # the tool: the same selection, one panel per block; 160 -> x2 to reach 224
    out = tmp_path / 'tokens.png'
    result = TOKENS_TOOL.run([config, ckpt, image, '--out', str(out)])
    # the tool normalises the image as the model was trained (its logits equal the reference's)
    torch.testing.assert_close(result['logits'], plain, rtol=0, atol=0)
    for ours, ref in zip(result['records'], records):
        assert torch.equal(ours.kept, ref.kept)
    assert cv2.imread(str(out)).shape == (320, 320 * 5, 3)


def test_tokens_refused_for_dense_models(tmp_path, image):
    _, _, ckpt = _cls_model(tmp_path)
    with pytest.raises(SystemExit, match='no shrinking hourglass block'):
        TOKENS_TOOL.run([CLS_QS, ckpt, image, '--out', str(tmp_path / 't.png')])
