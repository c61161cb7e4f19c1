"""Released mmseg-0.x segmentation checkpoints -> configs/seg models (tools/convert_official.py).

The release (Sense-X/UniFormer semantic_segmentation/, mmseg 0.x) saves ``{'meta', 'state_dict',
'optimizer'}`` with the backbone under ``backbone.`` in the official module names
(semantic_segmentation/mmseg/models/backbones/uniformer.py, fpn_seg/uniformer_light.py: stage
outputs ``norm1..norm4``, light ``cls_token``/``cls_upsample``) and the heads of mmseg 0.x. The
head key lists below are written from mmseg 0.x's module code (necks/fpn.py,
decode_heads/fpn_head.py, uper_head.py, psp_head.py PPM, fcn_head.py, decode_head.py
``conv_seg``; mmcv 1.x ConvModule names its conv ``conv`` and a BatchNorm/SyncBN ``bn`` and
drops the conv bias under a norm).
"""
import os.path as osp

import pytest
import torch

pytest.importorskip('mmseg')

from tests.conftest import REPO, build_untrained, load_module  # noqa: E402

WB = ('weight', 'bias')
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _keys(prefix, names):
    return {f'{prefix}.{n}' for n in names}


def _conv_bn(prefix):
    return {f'{prefix}.conv.weight'} | _keys(f'{prefix}.bn', BN)


def mmseg0_fpn_keys():
    """Semantic FPN: FPN neck (4 in, 4 out, convs with bias, no norm) and FPNHead (per level
    log2(stride / 4) conv-BN-ReLU + 2x upsampling pairs, at least one conv): 68 tensors."""
    keys = set()
    for i in range(4):
        keys |= _keys(f'neck.lateral_convs.{i}.conv', WB) | _keys(f'neck.fpn_convs.{i}.conv', WB)
    for i, length in enumerate((1, 1, 2, 3)):
        for k in range(length):  # Sequential [conv, upsample, conv, upsample, ...]
            keys |= _conv_bn(f'decode_head.scale_heads.{i}.{2 * k}')
    return keys | _keys('decode_head.conv_seg', WB)


def mmseg0_upernet_keys():
    """UperNet: UPerHead (PPM of 4 pool scales on stage 4, bottleneck, 3 lateral + 3 FPN convs,
    fpn_bottleneck) and the FCNHead auxiliary head (one conv): 102 tensors."""
    keys = set()
    for j in range(4):  # PPM: Sequential [AdaptiveAvgPool2d, ConvModule]
        keys |= _conv_bn(f'decode_head.psp_modules.{j}.1')
    keys |= _conv_bn('decode_head.bottleneck') | _conv_bn('decode_head.fpn_bottleneck')
    for i in range(3):
        keys |= _conv_bn(f'decode_head.lateral_convs.{i}') | _conv_bn(f'decode_head.fpn_convs.{i}')
    keys |= _keys('decode_head.conv_seg', WB)
    return keys | _conv_bn('auxiliary_head.convs.0') | _keys('auxiliary_head.conv_seg', WB)


@pytest.mark.parametrize('config,arch,heads', [
    ('fpn_uniformer_s_h32_80k.py', 'small', mmseg0_fpn_keys),
    ('upernet_uniformer_s_160k.py', 'small', mmseg0_upernet_keys),
    ('fpn_uniformer_xxs_80k.py', 'xxs', mmseg0_fpn_keys),
])
def test_released_layout_converts_and_loads(config, arch, heads, tmp_path):
    from mmuniformer.models.backbones import UniFormer, UniFormerLight
    model = build_untrained(osp.join(REPO, 'configs', 'seg', config))
    ours = model.state_dict()
    head_keys = {k for k in ours if not k.startswith('backbone.')}
    assert head_keys == heads(), 'mmseg 1.x heads are not keyed as the released mmseg 0.x ones'

    # the "released" backbone: another model of the same arch, other weights, official names
    torch.manual_seed(1)
    if arch == 'xxs':
        source = UniFormerLight('xxs', out_indices=(0, 1, 2, 3), out_norm='ln')
    else:
        # the released global-trained model, evaluated in the config's stage-3 mode
        mode = dict(eval_stage3_mode='hybrid', window_size=32) if 'h32' in config else {}
        source = UniFormer(arch, out_indices=(0, 1, 2, 3), out_norm='ln', **mode)
    source.init_weights()
    for p in source.parameters():  # move LayerNorms etc. off their identity init
        p.data.add_(0.05 * torch.randn_like(p))
    for name, buf in source.named_buffers():
        if 'running_var' in name:
            buf.uniform_(0.5, 1.5)
    backbone = {'backbone.' + k: v for k, v in source.state_dict().items()}
    official = ['patch_embed1.norm.weight', 'blocks1.2.attn.weight', 'blocks3.0.attn.qkv.weight',
                'norm1.weight', 'norm4.bias'] if arch == 'small' else [
        'patch_embed1.proj.0.weight', 'patch_embed1.proj.4.bias', 'cls_token',
        'cls_upsample.weight', 'blocks3.7.attn.qkv.weight', 'norm3.weight', 'norm4.bias']
    for key in official:
        assert 'backbone.' + key in backbone
    released = dict(backbone)
    released.update({k: torch.randn_like(ours[k].float()).to(ours[k].dtype) for k in head_keys})
    src = tmp_path / 'released.pth'
    torch.save(dict(meta=dict(mmseg_version='0.11.0', CLASSES=tuple(f'c{i}' for i in range(150))),
                    state_dict=released, optimizer=dict(state={}, param_groups=[])), src)

    dst = tmp_path / 'converted.pth'
    tool = load_module(osp.join(REPO, 'tools', 'convert_official.py'))
    tool.main([str(src), str(dst), '--config', osp.join(REPO, 'configs', 'seg', config)])
    converted = torch.load(dst, map_location='cpu')['state_dict']
    result = model.load_state_dict(converted, strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result
    for key in head_keys:
        torch.testing.assert_close(converted[key], released[key], rtol=0, atol=0)

    x = torch.randn(1, 3, 128, 160)
    with torch.no_grad():
        expected = source.eval()(x)
        got = model.backbone(x)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
