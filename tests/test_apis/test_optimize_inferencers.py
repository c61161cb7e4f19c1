"""build_inferencer(..., optimize=True, dtype=...): the libraries' inferencers on the quick-start
configs (untrained checkpoints) predict what the float32 inferencer predicts, within bf16."""
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmuniformer.apis import build_inferencer
from tests.conftest import REPO, load_module

QS = osp.join(REPO, 'projects/quickstart/configs')
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))


def _image(path: Path) -> str:
    rng = np.random.default_rng(0)
    image = (rng.random((64, 96, 3)) * 60 + 100).astype(np.uint8)
    cv2.circle(image, (30, 30), 14, (40, 200, 60), -1)
    cv2.imwrite(str(path), image)
    return str(path)


def _video(path: Path) -> str:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 8, (64, 64))
    for t in range(12):
        frame = np.full((64, 64, 3), 90, np.uint8)
        cv2.circle(frame, (10 + 3 * t, 32), 8, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return str(path)


def _pair(config: str, tmp_path: Path):
    from mmengine.registry import DefaultScope
    scopes = dict(DefaultScope._instance_dict)
    ckpt = str(tmp_path / 'model.pth')
    UNTRAINED.main([osp.join(QS, config), ckpt])
    ref = build_inferencer(osp.join(QS, config), ckpt)
    fast = build_inferencer(osp.join(QS, config), ckpt, optimize=True, dtype='bf16')
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    backbone = fast.model.backbone
    assert backbone.patch_embed2.proj.weight.dtype == torch.bfloat16
    assert ref.model.backbone.patch_embed2.proj.weight.dtype == torch.float32
    return ref, fast


@pytest.mark.parametrize('config,make_input', [('uniformer_tiny_shapes.py', _image),
                                               ('uniformer_tiny_motion.py', _video)])
def test_cls_and_video_scores(tmp_path: Path, config: str, make_input) -> None:
    ref, fast = _pair(config, tmp_path)
    inputs = make_input(tmp_path / ('input.png' if make_input is _image else 'clip.mp4'))

    def scores(out) -> np.ndarray:  # mmpretrain: a list of dicts; mmaction2: a dict of lists
        out = out['predictions'] if isinstance(out, dict) else out
        return np.asarray(out[0]['pred_scores'], dtype=np.float64)

    a, b = scores(ref(inputs)), scores(fast(inputs))
    assert a.shape == b.shape and a.size > 1
    np.testing.assert_allclose(b, a, atol=2e-3)


def test_seg_class_map(tmp_path: Path) -> None:
    ref, fast = _pair('fpn_uniformer_tiny_shapes_ade.py', tmp_path)
    image = _image(tmp_path / 'input.png')
    a = np.asarray(ref(image)['predictions'])
    b = np.asarray(fast(image)['predictions'])
    assert a.shape == b.shape == (64, 96)
    assert (a == b).mean() > 0.98  # pixels whose top class changed by bf16 rounding: few
