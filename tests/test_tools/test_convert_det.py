"""Released mmdet-2.x detection checkpoints -> configs/det models (tools/convert_official.py).

The release (Sense-X/UniFormer object_detection/, mmdet 2.11.0) saves ``{'meta', 'state_dict',
'optimizer'}`` with the backbone under ``backbone.`` in the official module names
(object_detection/mmdet/models/backbones/uniformer.py, uniformer_light.py) and the heads of
mmdet 2.11. The head key lists below are written from mmdet 2.11's module code
(necks/fpn.py, dense_heads/rpn_head.py, roi_heads/bbox_heads/convfc_bbox_head.py,
roi_heads/mask_heads/fcn_mask_head.py, roi_heads/cascade_roi_head.py; mmcv 1.x ConvModule
names its conv ``conv`` and a BatchNorm/SyncBN ``bn``, and drops the conv bias under a norm).
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytest.importorskip('mmdet')

from tests.conftest import REPO, build_untrained  # noqa: E402

WB = ('weight', 'bias')
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _keys(prefix, names):
    return {f'{prefix}.{n}' for n in names}


def _mmdet2_neck_rpn():
    keys = set()
    for i in range(4):  # FPN on 4 inputs, 5 outputs: the 5th by max pooling, no extra conv
        keys |= _keys(f'neck.lateral_convs.{i}.conv', WB) | _keys(f'neck.fpn_convs.{i}.conv', WB)
    for name in ('rpn_conv', 'rpn_cls', 'rpn_reg'):
        keys |= _keys(f'rpn_head.{name}', WB)
    return keys


def _mmdet2_mask_head(prefix):
    keys = set()
    for i in range(4):
        keys |= _keys(f'{prefix}.convs.{i}.conv', WB)
    return keys | _keys(f'{prefix}.upsample', WB) | _keys(f'{prefix}.conv_logits', WB)


def mmdet2_mask_rcnn_keys():
    """Head keys of the released Mask R-CNN (Shared2FCBBoxHead, FCNMaskHead): 42 tensors."""
    keys = _mmdet2_neck_rpn() | _mmdet2_mask_head('roi_head.mask_head')
    for name in ('shared_fcs.0', 'shared_fcs.1', 'fc_cls', 'fc_reg'):
        keys |= _keys(f'roi_head.bbox_head.{name}', WB)
    return keys


def mmdet2_cascade_keys():
    """Head keys of the released Cascade Mask R-CNN (3 x ConvFCBBoxHead 4conv1fc with SyncBN,
    3 x FCNMaskHead): 148 tensors."""
    keys = _mmdet2_neck_rpn()
    for s in range(3):
        head = f'roi_head.bbox_head.{s}'
        for i in range(4):
            keys |= {f'{head}.shared_convs.{i}.conv.weight'} | _keys(f'{head}.shared_convs.{i}.bn', BN)
        for name in ('shared_fcs.0', 'fc_cls', 'fc_reg'):
            keys |= _keys(f'{head}.{name}', WB)
        keys |= _mmdet2_mask_head(f'roi_head.mask_head.{s}')
    return keys


# A few backbone keys as the official dense backbones name them.
OFFICIAL_BACKBONE_KEYS = {
    'small': ['patch_embed1.proj.weight', 'patch_embed1.norm.weight', 'blocks1.2.conv1.weight',
              'blocks1.2.attn.weight', 'blocks2.3.norm1.running_var', 'blocks3.0.attn.qkv.weight',
              'blocks3.7.attn.proj.bias', 'blocks4.2.mlp.fc2.weight', 'norm1.weight',
              'norm4.bias'],
    'xxs': ['patch_embed1.proj.0.weight', 'patch_embed1.proj.1.running_mean',
            'patch_embed1.proj.3.weight', 'patch_embed1.proj.4.bias', 'patch_embed2.norm.weight',
            'cls_token', 'cls_upsample.weight', 'blocks3.7.attn.qkv.weight',
            'blocks4.1.pos_embed.weight', 'norm3.weight', 'norm4.bias'],
}


@pytest.mark.parametrize('config,arch,heads', [
    ('mask_rcnn_uniformer_s_h14_1x.py', 'small', mmdet2_mask_rcnn_keys),
    pytest.param('cascade_mask_rcnn_uniformer_s_h14_3x_ms.py', 'small', mmdet2_cascade_keys,
                 marks=pytest.mark.slow),
    ('mask_rcnn_uniformer_xxs_1x.py', 'xxs', mmdet2_mask_rcnn_keys),
])
def test_released_layout_converts_and_loads(config, arch, heads, tmp_path):
    from mmuniformer.models.backbones import UniFormer, UniFormerLight
    model = build_untrained(osp.join(REPO, 'configs', 'det', config))
    ours = model.state_dict()
    head_keys = {k for k in ours if not k.startswith('backbone.')}
    assert head_keys == heads(), 'mmdet 3 heads are not keyed as the released mmdet 2.11 ones'

    # the "released" backbone: another model of the same arch, other weights, official names
    torch.manual_seed(1)
    if arch == 'xxs':
        source = UniFormerLight('xxs', out_indices=(0, 1, 2, 3), out_norm='ln')
    else:
        source = UniFormer(arch, out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='hybrid',
                           window_size=14)
    source.init_weights()
    for p in source.parameters():  # move LayerNorms etc. off their identity init
        p.data.add_(0.05 * torch.randn_like(p))
    for name, buf in source.named_buffers():
        if 'running_var' in name:
            buf.uniform_(0.5, 1.5)
    backbone = {'backbone.' + k: v for k, v in source.state_dict().items()}
    for key in OFFICIAL_BACKBONE_KEYS[arch]:
        assert 'backbone.' + key in backbone
    released = dict(backbone)
    released.update({k: torch.randn_like(ours[k].float()).to(ours[k].dtype) for k in head_keys})
    src = tmp_path / 'released.pth'
    torch.save(dict(meta=dict(mmdet_version='2.11.0', CLASSES=tuple(f'c{i}' for i in range(80))),
                    state_dict=released, optimizer=dict(state={}, param_groups=[])), src)

    dst = tmp_path / 'converted.pth'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'convert_official.py'), str(src), str(dst),
         '--config', osp.join(REPO, 'configs', 'det', config)],
        capture_output=True, text=True, cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    converted = torch.load(dst, map_location='cpu')['state_dict']
    result = model.load_state_dict(converted, strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result
    for key in head_keys:
        torch.testing.assert_close(converted[key], released[key], rtol=0, atol=0)

    x = torch.randn(1, 3, 160, 224)
    with torch.no_grad():
        expected = source.eval()(x)
        got = model.backbone(x)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
