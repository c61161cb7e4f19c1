"""Loading official and mmengine-style checkpoints through ``init_cfg=Pretrained``:
strict by default, readable summaries, the key mapping in both directions."""
import copy
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mmuniformer.checkpoint import KEY_RULES, official_to_ours, ours_to_official, summarise_keys
from mmuniformer.models.backbones.uniformer import ARCH_ZOO, UniFormer

TINY_LS = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16,
               layer_scale_stages=(0, 1, 2, 3))


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))

    def text(self, min_level: int = 0) -> str:
        return '\n'.join(m for lvl, m in self.messages if lvl >= min_level)


@pytest.fixture
def log():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _source(arch) -> UniFormer:
    """A model with every tensor non-trivial: random weights, layer scales and BN stats."""
    torch.manual_seed(0)
    model = UniFormer(arch)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith(('ls1.weight', 'ls2.weight', 'running_var')):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith('running_mean'):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model.eval()


def _official(model: UniFormer) -> dict:
    """The official file layout: ``{'model': sd}`` with gamma_{1,2} and a 1000-class head."""
    sd = ours_to_official(model.state_dict()).state
    dim = model.embed_dims[-1]
    g = torch.Generator().manual_seed(2)
    sd['head.weight'] = torch.randn(1000, dim, generator=g)
    sd['head.bias'] = torch.randn(1000, generator=g)
    return {'model': sd}


def _assert_same(dst: UniFormer, src: UniFormer, size: int = 64, batch: int = 2) -> None:
    own = dst.state_dict()
    assert set(own) == set(src.state_dict())
    differ = [k for k, v in src.state_dict().items() if not torch.equal(own[k], v)]
    assert differ == []
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out_src, out_dst = src.eval()(x), dst.eval()(x)
    for a, b in zip(out_src, out_dst):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize('arch', ['small', 'large_ls'])
def test_official_imagenet_checkpoint(arch, tmp_path, log):
    src = _source(arch)
    ckpt = _official(src)
    sd = ckpt['model']
    # the official layout (image_classification/models/uniformer.py): gamma_1/gamma_2,
    # (1, C, 1, 1) in local blocks, (C,) in global ones
    dims = ARCH_ZOO[arch]['embed_dims']
    gammas = [k for k in sd if '.gamma_' in k]
    assert not any('.ls1.' in k or '.ls2.' in k for k in sd)
    if arch == 'large_ls':
        assert len(gammas) == 2 * sum(ARCH_ZOO[arch]['depths'])
        assert sd['blocks1.0.gamma_1'].shape == (1, dims[0], 1, 1)
        assert sd['blocks2.3.gamma_2'].shape == (1, dims[1], 1, 1)
        assert sd['blocks3.0.gamma_1'].shape == (dims[2], )
        assert sd['blocks4.6.gamma_2'].shape == (dims[3], )
    else:
        assert gammas == []
    assert 'blocks3.0.attn.qkv.weight' in sd and 'blocks1.0.conv1.weight' in sd
    assert 'norm.running_var' in sd and 'patch_embed1.proj.weight' in sd
    path = str(tmp_path / 'official.pth')
    torch.save(ckpt, path)

    if arch == 'large_ls':  # saves building a second 100M-parameter model on slow CPUs
        dst = copy.deepcopy(src)
        with torch.no_grad():
            for t in dst.state_dict().values():
                t.zero_()  # nothing left of the source
        dst.init_cfg = dict(type='Pretrained', checkpoint=path)
    else:
        dst = UniFormer(arch, init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    text = log.text()
    assert 'dropped 2 checkpoint tensors outside the backbone: head.* (2)' in text, text
    assert log.text(logging.WARNING) == ''
    _assert_same(dst, src, *((32, 1) if arch == 'large_ls' else (64, 2)))


def test_mmengine_style_checkpoint_with_prefix(tmp_path, log):
    src = _source(TINY_LS)
    sd = {f'backbone.{k}': v for k, v in src.state_dict().items()}
    sd['head.fc.weight'] = torch.randn(10, 128)
    sd['head.fc.bias'] = torch.randn(10)
    path = str(tmp_path / 'iter_2.pth')
    torch.save({'meta': dict(iter=2), 'state_dict': sd, 'optimizer': {}}, path)
    for prefix in ('backbone.', 'backbone', None):  # None: found automatically
        dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path, prefix=prefix))
        dst.init_weights()
        _assert_same(dst, src)
    assert log.text(logging.WARNING) == ''
    assert 'dropped 2 checkpoint tensors outside the backbone: head.* (2)' in log.text()


def test_module_prefixed_official_checkpoint(tmp_path, log):
    src = _source(TINY_LS)
    official = _official(src)['model']
    path = str(tmp_path / 'ddp.pth')
    torch.save({'model': {f'module.{k}': v for k, v in official.items()}}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    _assert_same(dst, src)
    assert log.text(logging.WARNING) == '' and 'dropped 2 checkpoint' in log.text()


def test_partial_checkpoint_raises_and_loads_with_strict_false(tmp_path, log):
    src = _source(TINY_LS)
    official = _official(src)['model']
    del official['blocks4.0.mlp.fc2.bias']
    path = str(tmp_path / 'partial.pth')
    torch.save({'model': official}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError, match=r'1 missing from the checkpoint: blocks4\.\{0\} '
                       r'\(1 block, 1 tensors\)'):
        dst.init_weights()
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path, strict=False))
    dst.init_weights()
    warnings = log.text(logging.WARNING)
    assert warnings.count('\n') == 0 and '1 missing from the checkpoint' in warnings
    # what fits is loaded; the missing tensor keeps the official initialisation (Linear bias 0)
    assert not dst.blocks4[0].mlp.fc2.bias.any() and src.blocks4[0].mlp.fc2.bias.any()
    torch.testing.assert_close(dst.blocks4[0].mlp.fc2.weight, src.blocks4[0].mlp.fc2.weight)


def _tensors_per_block(local: bool) -> int:
    """Hand count of one block's tensors (image_classification/models/uniformer.py):
    local CBlock: pos_embed, conv1, attn, conv2, fc1, fc2 (weight + bias each: 12) and two
    BatchNorms (weight, bias, running mean/var, num_batches_tracked: 10); global SABlock:
    pos_embed, qkv, proj, fc1, fc2 and two LayerNorms, weight + bias each (14)."""
    return 12 + 10 if local else 14


def test_base_checkpoint_into_small_names_the_arch(tmp_path, log):
    """The new user's mistake: an ImageNet UniFormer-B checkpoint given to UniFormer-S.
    Same widths, fewer blocks: every S tensor fits, B's extra blocks are unexpected."""
    torch.manual_seed(0)
    base = UniFormer('base')
    path = str(tmp_path / 'uniformer_base_in1k.pth')
    torch.save({'model': ours_to_official(base.state_dict()).state}, path)
    extra = (5 - 3 + 8 - 4) * _tensors_per_block(True) + (20 - 8 + 7 - 3) * _tensors_per_block(False)
    assert extra == 356
    small = UniFormer('small', init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError) as err:
        small.init_weights()
    msg = str(err.value)
    assert "checkpoint looks like 'base' (5, 8, 20, 7); this model is 'small' (3, 4, 8, 3); " \
           "'base_tl' has the same tensor shapes" in msg, msg
    assert f'{extra} unexpected (not in the model): blocks1.{{3..4}} (2 blocks, 44 tensors); ' \
           'blocks2.{4..7} (4 blocks, 88 tensors); blocks3.{8..19} (12 blocks, 168 tensors); ' \
           'blocks4.{3..6} (4 blocks, 56 tensors)' in msg, msg
    assert 'strict=False' in msg and len(msg) < 1200  # no list of hundreds of keys

    small = UniFormer('small', init_cfg=dict(type='Pretrained', checkpoint=path, strict=False))
    small.init_weights()
    warnings = [m for lvl, m in log.messages if lvl >= logging.WARNING]
    assert len(warnings) == 1 and f'{extra} unexpected' in warnings[0] and len(warnings[0]) < 800
    for key, value in small.state_dict().items():  # every S tensor comes from B
        assert torch.equal(value, base.state_dict()[key]), key


def test_dense_checkpoint_heads_dropped_in_one_line(tmp_path, log):
    """A detection-style checkpoint (``backbone.`` + neck and heads) initialises a backbone;
    an ImageNet checkpoint (classification BatchNorm ``norm``) initialises a dense backbone
    with LayerNorm outputs: output norms of another task are not errors."""
    src = UniFormer(TINY_LS, out_indices=(0, 1, 2, 3), out_norm='ln')
    sd = {f'backbone.{k}': v for k, v in ours_to_official(src.state_dict()).state.items()}
    sd.update({f'neck.lateral_convs.{i}.conv.weight': torch.zeros(8, 8, 1, 1) for i in range(4)})
    sd.update({'rpn_head.rpn_conv.weight': torch.zeros(8, 8, 3, 3),
               'roi_head.bbox_head.fc_cls.weight': torch.zeros(3, 8)})
    path = str(tmp_path / 'det.pth')
    torch.save({'state_dict': sd, 'meta': {}}, path)
    dst = UniFormer(TINY_LS, out_indices=(0, 1, 2, 3), out_norm='ln',
                    init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    assert 'dropped 6 checkpoint tensors outside the backbone: neck.* (4), rpn_head.* (1), ' \
           'roi_head.* (1)' in log.text()
    _assert_same(dst, src)

    imagenet = str(tmp_path / 'in1k.pth')
    torch.save(_official(_source(TINY_LS)), imagenet)
    dense = UniFormer(TINY_LS, out_indices=(0, 1, 2, 3), out_norm='ln',
                      init_cfg=dict(type='Pretrained', checkpoint=imagenet))
    dense.init_weights()
    assert log.text(logging.WARNING) == ''
    assert 'output norms of another task are not loaded' in log.text()
    assert torch.equal(dense.blocks3[1].attn.qkv.weight, _source(TINY_LS).blocks3[1].attn.qkv.weight)


def test_key_rules_round_trip_every_scope():
    """Each row maps official -> ours -> official unchanged, and the table is the only
    place where names change."""
    for rule in KEY_RULES:
        official = rule.official.format(module='blocks3.0', i=1, rest='x.weight')
        ours = rule.apply(official, 'official')
        assert ours == rule.ours.format(module='blocks3.0', i=1, rest='x.weight')
        assert rule.apply(ours, 'ours') == official
    src = _source(TINY_LS)
    official = _official(src)['model']
    for scope, head in [('mmpretrain', 'head.fc.weight'), ('mmaction', 'cls_head.fc_cls.weight')]:
        mapped = official_to_ours(official, scope)
        assert mapped.left_over == [] and head in mapped.state
        assert mapped.state['backbone.blocks1.0.ls1.weight'].shape == (16, )
        back = ours_to_official(mapped.state, scope)
        assert back.left_over == [] and list(back.state) == list(official)
        assert all(torch.equal(back.state[k], v) for k, v in official.items())
    # mmpose 0.x keypoint_head -> mmpose 1.x head, backbone kept under backbone.
    dense = {'backbone.blocks1.0.gamma_1': torch.ones(1, 16, 1, 1),
             'keypoint_head.final_layer.weight': torch.ones(17, 8, 1, 1)}
    mapped = official_to_ours(dense, 'mmpose')
    assert list(mapped.state) == ['backbone.blocks1.0.ls1.weight', 'head.final_layer.weight']
    assert official_to_ours(dense, 'mmdet').left_over == ['keypoint_head.final_layer.weight']


def test_summarise_keys():
    keys = [f'blocks3.{i}.attn.qkv.{p}' for i in (2, 3, 4, 9) for p in ('weight', 'bias')]
    keys += ['norm.weight', 'norm.bias', 'cls_token']
    assert summarise_keys(keys) == ['blocks3.{2..4,9} (4 blocks, 8 tensors)', 'norm (2 tensors)',
                                    'cls_token (1 tensor)']


def test_checkpoint_of_another_arch_raises(tmp_path):
    src = _source(TINY_LS)
    path = str(tmp_path / 'other.pth')
    torch.save(_official(src), path)
    other = dict(TINY_LS, embed_dims=(24, 32, 64, 128))
    dst = UniFormer(other, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError,
                       match=r'patch_embed1\.proj\.weight: checkpoint \(16, 3, 4, 4\) vs '
                       r'model \(24, 3, 4, 4\)') as err:
        dst.init_weights()
    assert 'embed dims: checkpoint (16, 32, 64, 128), model (24, 32, 64, 128)' in str(err.value)


def test_missing_prefix_raises(tmp_path):
    src = _source(TINY_LS)
    path = str(tmp_path / 'model.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path, prefix='encoder.'))
    with pytest.raises(KeyError, match="prefix 'encoder.'") as err:
        dst.init_weights()
    assert 'backbone.' in str(err.value)  # shows what the checkpoint has instead
