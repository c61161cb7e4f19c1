"""Loading official and mmengine-style checkpoints through ``init_cfg=Pretrained``."""
import copy
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mmuniformer.checkpoint import mmuniformer_to_official
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
    sd = mmuniformer_to_official(model.state_dict())
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
    # the official layout as in FACTS: gamma_1/gamma_2, (1, C, 1, 1) local, (C,) global
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
    assert "dropped 2 classifier-head tensors not used by the backbone: " \
           "['head.fc.bias', 'head.fc.weight']" in text, text
    assert 'missing keys' not in text and 'unexpected keys' not in text, text
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
    assert 'missing keys' not in log.text() and 'unexpected keys' not in log.text()


def test_module_prefixed_official_checkpoint(tmp_path, log):
    src = _source(TINY_LS)
    official = _official(src)['model']
    path = str(tmp_path / 'ddp.pth')
    torch.save({'model': {f'module.{k}': v for k, v in official.items()}}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    _assert_same(dst, src)
    assert 'missing keys' not in log.text() and 'dropped 2 classifier-head' in log.text()


def test_partial_checkpoint_reports_missing_keys(tmp_path, log):
    src = _source(TINY_LS)
    official = _official(src)['model']
    del official['blocks4.0.mlp.fc2.bias']
    path = str(tmp_path / 'partial.pth')
    torch.save({'model': official}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    warnings = log.text(logging.WARNING)
    assert 'missing keys (1)' in warnings and 'blocks4.0.mlp.fc2.bias' in warnings


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
    assert 'arch' in str(err.value)


def test_missing_prefix_raises(tmp_path):
    src = _source(TINY_LS)
    path = str(tmp_path / 'model.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}}, path)
    dst = UniFormer(TINY_LS, init_cfg=dict(type='Pretrained', checkpoint=path, prefix='encoder.'))
    with pytest.raises(KeyError, match="prefix 'encoder.'") as err:
        dst.init_weights()
    assert 'backbone.' in str(err.value)  # shows what the checkpoint has instead
