"""ONNX export (tools/deployment/pytorch2onnx.py): classifier, light classifier, video
recogniser and detection backbones (``--part backbone``, window / hybrid stage 3) with a
dynamic batch, checked against PyTorch's outputs with onnxruntime at batch sizes other than
the exported one (the whole models of every task, at two sizes in both runtimes:
tests/test_tools/test_deploy.py).

The PyTorch reference runs the fused attention kernel (the model as trained), the graph the
explicit softmax path: both must give the same numbers. Small models and inputs keep it cheap.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmuniformer.apis import build_model_from_config

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS

pytest.importorskip('onnxruntime')
pytest.importorskip('onnx')

TOOL = load_module(osp.join(REPO, 'tools/deployment/pytorch2onnx.py'))
CLS_QS, VIDEO_QS, DET_QS = (QS_CONFIGS[task] for task in ('cls', 'video', 'det'))
LIGHT_CLS = osp.join(REPO, 'configs/cls/uniformer_xxs_in1k_160.py')
TINY_LIGHT = dict(_delete_=True, depths=(1, 1, 2, 2), embed_dims=(32, 64, 128, 256), head_dim=32)


def _export_and_compare(tmp_path, config, shape, cfg_options=None, part='auto', seed=0):
    """Export with batch 2, run onnxruntime at batches 1, 2 and 3; returns the
    (onnx, torch) output lists of batch 3 and the max difference over all batches."""
    torch.manual_seed(seed)
    model, cfg, scope = build_model_from_config(config, cfg_options)
    model.init_weights()
    model.eval()
    part = TOOL.resolve_part(part, scope)
    fn = TOOL.export_fn(part, scope)
    out = str(tmp_path / 'model.onnx')
    g = torch.Generator().manual_seed(seed)
    TOOL.export_onnx(model, fn, torch.randn(2, 3, *shape, generator=g), out)
    worst, last = 0., None
    for batch in (1, 2, 3):
        x = torch.randn(batch, 3, *shape, generator=g)
        ours, ref = TOOL.onnx_outputs(out, x.numpy()), TOOL.torch_outputs(model, fn, x)
        worst = max(worst, TOOL.max_abs_diff(ours, ref))
        last = ours, ref
    return last, worst


def test_classifier_exports_with_dynamic_batch(tmp_path):
    (ours, ref), diff = _export_and_compare(tmp_path, CLS_QS, (64, 64))
    assert len(ours) == 1 and ours[0].shape == (3, 8)  # 8 quick-start classes
    assert diff < 1e-4
    assert np.abs(ref[0]).max() > 1e-3  # not a trivially zero output


def test_light_classifier_with_token_selection_exports(tmp_path):
    """XXS-style hourglass model: stage-3 map 4x4 = 16 tokens, the shrinking blocks keep 8
    (argsort + gather in the graph), the score token output is left out by the head."""
    options = {'model.backbone.arch': TINY_LIGHT, 'model.head.in_channels': 256,
               'model.head.num_classes': 10}
    (ours, ref), diff = _export_and_compare(tmp_path, LIGHT_CLS, (64, 64), options)
    assert ours[0].shape == (3, 10)
    assert diff < 1e-4


def test_video_recognizer_exports(tmp_path):
    (ours, ref), diff = _export_and_compare(tmp_path, VIDEO_QS, (8, 64, 64))
    assert ours[0].shape == (3, 8)
    assert diff < 1e-4


@pytest.mark.parametrize('mode', ['window', 'hybrid'])
def test_detection_backbone_exports(tmp_path, mode):
    """Stage 3 is 6x8 at 96x128 with 4x4 windows: the window partition pads it to 8x8."""
    # random initial weights instead of the cls quick start's checkpoint the config starts from
    options = {'model.backbone.stage3_mode': mode, 'model.backbone.init_cfg': None}
    (ours, ref), diff = _export_and_compare(tmp_path, DET_QS, (96, 128), options, 'backbone')
    shapes = [o.shape for o in ours]
    assert shapes == [(3, 32, 24, 32), (3, 64, 12, 16), (3, 128, 6, 8), (3, 256, 3, 4)]
    assert diff < 1e-4


def test_cli_verifies_and_refuses_wrong_part(tmp_path, capsys):
    out = str(tmp_path / 'cls.onnx')
    assert TOOL.main([CLS_QS, '--shape', '32', '--out', out, '--verify',
                      '--runtimes', 'onnxruntime']) == 0
    printed = capsys.readouterr().out
    assert 'verified' in printed and 'exported at (2, 3, 32, 32)' in printed
    with pytest.raises(SystemExit, match='needs an mmpretrain config'):
        TOOL.main([DET_QS, '--part', 'classifier', '--out', out])
    with pytest.raises(SystemExit, match='--batch must be >= 2'):
        TOOL.main([CLS_QS, '--batch', '1', '--out', out])
