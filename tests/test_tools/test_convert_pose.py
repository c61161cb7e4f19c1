"""Released pose checkpoints -> configs/pose models (tools/convert_official.py).

Two layouts are converted:

* the official release (Sense-X/UniFormer pose_estimation/, mmpose 0.x): ``{'meta',
  'state_dict'}`` with the backbone under ``backbone.`` in the official module names
  (pose_estimation/mmpose/models/backbones/uniformer.py: LayerNorms ``norm1..norm4`` although
  only ``norm4`` reaches the head) and mmpose 0.x's ``TopDownSimpleHead`` under
  ``keypoint_head.``;
* mmpose 1.x's own ``projects/uniformer`` (open-mmlab/mmpose projects/uniformer/models/
  uniformer.py): the same backbone names and ``norm1..norm4``, the head already keyed as
  mmpose 1.x's ``HeatmapHead`` (``head.``).

The head keys and shapes below are written from mmpose 0.x's TopDownSimpleHead
(``_make_deconv_layer``: ConvTranspose2d(4x4, stride 2, no bias), BatchNorm2d, ReLU, three
times; ``final_layer``: one 1x1 Conv2d since ``extra=dict(final_conv_kernel=1)``).
"""
import os.path as osp
from typing import Dict, Tuple

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmpose')

from tests.conftest import REPO, load_module  # noqa: E402

CONFIG = osp.join(REPO, 'configs', 'pose', 'topdown_uniformer_s_256x192.py')
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def released_head_shapes(prefix: str, in_channels: int = 512) -> Dict[str, Tuple[int, ...]]:
    """TopDownSimpleHead of the released configs (17 keypoints): key -> shape."""
    shapes = {}
    for i, cin in zip((0, 3, 6), (in_channels, 256, 256)):
        shapes[f'{prefix}deconv_layers.{i}.weight'] = (cin, 256, 4, 4)  # (in, out, k, k)
        for name in BN:
            shape = () if name == 'num_batches_tracked' else (256, )
            shapes[f'{prefix}deconv_layers.{i + 1}.{name}'] = shape
    shapes[f'{prefix}final_layer.weight'] = (17, 256, 1, 1)
    shapes[f'{prefix}final_layer.bias'] = (17, )
    return shapes


def released_checkpoint(head_prefix: str, seed: int = 1) -> Tuple[dict, torch.nn.Module]:
    """A released-layout UniFormer-S pose checkpoint with random weights and the backbone
    that produced its ``backbone.`` tensors (in eval mode)."""
    from mmuniformer.models.backbones import UniFormer
    torch.manual_seed(seed)
    source = UniFormer('small', out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='global')
    source.init_weights()
    with torch.no_grad():
        for p in source.parameters():  # move LayerNorms etc. off their identity init
            p.add_(0.05 * torch.randn_like(p))
        for name, buf in source.named_buffers():
            if 'running_var' in name:
                buf.uniform_(0.5, 1.5)
    state = {'backbone.' + k: v for k, v in source.state_dict().items()}
    for key in ('patch_embed1.proj.weight', 'patch_embed1.norm.weight', 'blocks1.2.conv1.weight',
                'blocks2.3.norm1.running_var', 'blocks3.7.attn.qkv.weight',
                'blocks4.2.mlp.fc2.weight', 'norm1.weight', 'norm2.bias', 'norm3.weight',
                'norm4.bias'):  # as the official pose backbone names them
        assert 'backbone.' + key in state
    for key, shape in released_head_shapes(head_prefix).items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(1000)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape) + 0.5
        else:
            state[key] = torch.randn(shape) * 0.05
    return dict(meta=dict(mmpose_version='0.x'), state_dict=state), source.eval()


def released_heatmaps(state: dict, source: torch.nn.Module, x: torch.Tensor,
                      prefix: str) -> torch.Tensor:
    """The released model's heatmaps, computed from the checkpoint's tensors with torch ops:
    stage 4 after ``norm4``, three deconvolution + BatchNorm (eval) + ReLU, the 1x1 conv."""
    sd = state['state_dict']
    with torch.no_grad():
        y = source(x)[3]
        for i in (0, 3, 6):
            y = F.conv_transpose2d(y, sd[f'{prefix}deconv_layers.{i}.weight'], stride=2, padding=1)
            bn = f'{prefix}deconv_layers.{i + 1}.'
            y = F.relu(F.batch_norm(y, sd[bn + 'running_mean'], sd[bn + 'running_var'],
                                    sd[bn + 'weight'], sd[bn + 'bias'], False, 0., 1e-5))
        return F.conv2d(y, sd[f'{prefix}final_layer.weight'], sd[f'{prefix}final_layer.bias'])


def convert(state: dict, tmp_path, config: str = CONFIG) -> str:
    """``tools/convert_official.py SRC DST --config CONFIG`` on ``state``; returns DST."""
    src, dst = tmp_path / 'released.pth', tmp_path / 'converted.pth'
    torch.save(state, src)
    load_module(osp.join(REPO, 'tools', 'convert_official.py')).main(
        [str(src), str(dst), '--config', config])
    return str(dst)


@pytest.mark.parametrize('head_prefix', ['keypoint_head.', 'head.'],
                         ids=['mmpose0x_release', 'mmpose_projects_uniformer'])
def test_released_layout_converts_loads_and_gives_the_released_heatmaps(head_prefix, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    import mmuniformer  # noqa: F401
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model).eval()
    head_keys = {k for k in model.state_dict() if not k.startswith('backbone.')}
    # mmpose 1.x HeatmapHead keeps mmpose 0.x's module names and Sequential indices
    assert head_keys == set(released_head_shapes('head.'))
    state, source = released_checkpoint(head_prefix)
    converted = torch.load(convert(state, tmp_path), map_location='cpu')['state_dict']
    # the released backbone's unused norm1..3 are dropped; nothing else is missing or left
    result = model.load_state_dict(converted, strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result
    assert len(converted) == len(state['state_dict']) - 6
    for key in head_keys:
        old = head_prefix + key[len('head.'):]
        assert torch.equal(converted[key], state['state_dict'][old]), key
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        got = model(x, None, mode='tensor')
    expected = released_heatmaps(state, source, x, head_prefix)
    assert got.shape == (2, 17, 32, 24)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_released_checkpoint_of_another_arch_is_refused(tmp_path):
    """A UniFormer-S pose checkpoint given to a UniFormer-B config: exit status 1, and the
    message names the arch the checkpoint looks like."""
    state, _ = released_checkpoint('keypoint_head.')
    src, dst = tmp_path / 'released.pth', tmp_path / 'converted.pth'
    torch.save(state, src)
    tool = load_module(osp.join(REPO, 'tools', 'convert_official.py'))
    with pytest.raises(SystemExit) as info:
        tool.main([str(src), str(dst),
                   '--config', osp.join(REPO, 'configs', 'pose', 'topdown_uniformer_b_256x192.py')])
    assert info.value.code == 1
    assert not dst.exists()
