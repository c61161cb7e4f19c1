"""Our modules are reachable from every installed OpenMMLab 2.0 library by scoped name,
without touching the libraries' own registries, and the package works with any subset
of them installed; mmengine Runner checkpoints load with torch >= 2.6."""
import importlib
import os
import os.path as osp
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel

import mmuniformer
from mmuniformer.models.backbones import UniFormer, UniFormerLight

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16, mlp_ratio=3.)
LIBS = ['mmpretrain', 'mmdet', 'mmseg', 'mmaction', 'mmpose']
HAS_PRETRAIN = importlib.util.find_spec('mmpretrain') is not None


def _lib_models(lib):
    pytest.importorskip(lib)
    return importlib.import_module(f'{lib}.registry').MODELS


def _our_classes():
    classes = {'UniFormer': UniFormer, 'UniFormerLight': UniFormerLight}
    if HAS_PRETRAIN:
        from mmuniformer.models.classifiers import TokenLabelClassifier
        from mmuniformer.models.heads import TokenLabelClsHead, UniFormerLightClsHead
        classes.update(TokenLabelClsHead=TokenLabelClsHead,
                       TokenLabelClassifier=TokenLabelClassifier,
                       UniFormerLightClsHead=UniFormerLightClsHead)
    return classes


@pytest.mark.parametrize('lib', LIBS + ['mmengine'])
def test_scoped_names_resolve_from_every_library(lib):
    if lib == 'mmengine':
        from mmengine.registry import MODELS
    else:
        MODELS = _lib_models(lib)
    for name, cls in _our_classes().items():
        assert MODELS.get(f'mmuniformer.{name}') is cls, (lib, name)
    # and build: backbones, heads and the classifier
    backbone = MODELS.build(dict(type='mmuniformer.UniFormer', arch=TINY))
    assert type(backbone) is UniFormer and backbone.embed_dims == TINY['embed_dims']
    light = MODELS.build(dict(type='mmuniformer.UniFormerLight', arch=TINY_LIGHT))
    assert type(light) is UniFormerLight
    with torch.no_grad():
        out = backbone.eval()(torch.randn(1, 3, 64, 64))
    assert out[-1].shape == (1, 128, 2, 2)
    if HAS_PRETRAIN:
        classes = _our_classes()
        head = MODELS.build(dict(type='mmuniformer.TokenLabelClsHead', num_classes=7,
                                 in_channels=128))
        assert type(head) is classes['TokenLabelClsHead'] and head.fc.out_features == 7
        head = MODELS.build(dict(type='mmuniformer.UniFormerLightClsHead', num_classes=7,
                                 in_channels=128))
        assert type(head) is classes['UniFormerLightClsHead']
        model = MODELS.build(dict(
            type='mmuniformer.TokenLabelClassifier',
            backbone=dict(type='mmuniformer.UniFormer', arch=TINY),
            head=dict(type='mmuniformer.TokenLabelClsHead', num_classes=7, in_channels=128)))
        assert type(model) is classes['TokenLabelClassifier']
        assert type(model.backbone) is UniFormer


@pytest.mark.parametrize('lib', LIBS)
def test_library_registries_are_not_written(lib):
    """Nothing of ours is registered under the libraries' own (unscoped) names."""
    MODELS = _lib_models(lib)
    MODELS.import_from_location()
    for name, cls in _our_classes().items():
        assert MODELS.module_dict.get(name) is not cls, (lib, name)
    for key, cls in MODELS.module_dict.items():
        assert not cls.__module__.startswith('mmuniformer'), (lib, key, cls)


def test_mmaction_uniformer_is_still_mmaction():
    MODELS = _lib_models('mmaction')
    cls = MODELS.get('UniFormer')
    assert cls is not UniFormer
    assert cls.__module__.startswith('mmaction'), cls.__module__
    assert MODELS.module_dict['UniFormer'] is cls
    # both are reachable side by side
    assert MODELS.get('mmuniformer.UniFormer') is UniFormer
    assert MODELS.get('mmaction.UniFormer') is cls


@pytest.mark.parametrize('lib', ['mmpretrain', 'mmdet', 'mmseg', 'mmpose'])
def test_unscoped_name_suggests_the_scoped_one(lib, tmp_path):
    """``type='UniFormer'`` without the scope in another library's config: the registry's
    KeyError says to write ``mmuniformer.UniFormer`` (a hint in mmengine's root registry,
    which a library's registry searches last); the scoped name builds as before, and the
    library's own registry holds nothing of ours."""
    MODELS = _lib_models(lib)
    for name in ('UniFormer', 'UniFormerLight'):
        with pytest.raises(KeyError) as err:
            MODELS.build(dict(type=name, arch=TINY))
        assert f"write type='mmuniformer.{name}'" in str(err.value), str(err.value)
        assert name not in MODELS.module_dict
    assert type(MODELS.build(dict(type='mmuniformer.UniFormer', arch=TINY))) is UniFormer
    # the same through our config -> model path (tools, demos, APIs)
    from mmuniformer.apis import build_model_from_config
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"default_scope = '{lib}'\nmodel = dict(type='UniFormer', arch={TINY!r})\n")
    with pytest.raises(KeyError, match=r"write type='mmuniformer\.UniFormer'"):
        build_model_from_config(str(cfg))


def test_our_arguments_reaching_mmaction_uniformer_name_both(tmp_path):
    """In mmaction2 ``type='UniFormer'`` is mmaction2's own backbone: given our arguments it
    fails with a message naming both backbones and the scoped name (checked before building
    wherever our tools and APIs build a config); its own arguments still build its own."""
    pytest.importorskip('mmaction')
    from mmuniformer.apis import build_inferencer, build_model_from_config
    cfg = tmp_path / 'video.py'
    cfg.write_text("default_scope = 'mmaction'\nmodel = dict(type='Recognizer3D', backbone=dict("
                   f"type='UniFormer', arch={TINY!r}, ndim=3, out_tuple=False), cls_head=dict("
                   "type='I3DHead', num_classes=2, in_channels=128))\n")
    for build in (build_model_from_config, lambda c: build_inferencer(c, None)):
        with pytest.raises(TypeError) as err:
            build(str(cfg))
        msg = str(err.value)
        assert 'mmaction.models.backbones.uniformer.UniFormer' in msg, msg
        assert "['arch', 'ndim', 'out_tuple']" in msg and \
            'mmuniformer.models.backbones.uniformer.UniFormer' in msg, msg
        assert "write type='mmuniformer.UniFormer'" in msg, msg
    cfg.write_text("default_scope = 'mmaction'\nmodel = dict(type='UniFormer', depth=[1, 1, 1, 1], "
                   "embed_dim=[16, 32, 64, 128], head_dim=16)\n")
    model = build_model_from_config(str(cfg))[0]
    assert type(model) is _lib_models('mmaction').get('UniFormer') and \
        type(model).__module__.startswith('mmaction')


def test_transforms_by_scoped_name_from_mmpretrain():
    pytest.importorskip('mmpretrain')
    from mmpretrain.registry import TRANSFORMS

    from mmuniformer.datasets.token_label import (LoadTokenLabel, TokenLabelFlip,
                                                  TokenLabelRandomResizedCrop, TokenLabelResize)
    built = TRANSFORMS.build(dict(type='mmuniformer.TokenLabelRandomResizedCrop', scale=96,
                                  label_size=3))
    assert type(built) is TokenLabelRandomResizedCrop and built.label_size == (3, 3)
    assert tuple(built.scale) == (96, 96)
    built = TRANSFORMS.build(dict(type='mmuniformer.LoadTokenLabel', label_root='a',
                                  data_prefix='b', num_classes=4))
    assert type(built) is LoadTokenLabel and built.num_classes == 4
    assert type(TRANSFORMS.build(dict(type='mmuniformer.TokenLabelFlip'))) is TokenLabelFlip
    built = TRANSFORMS.build(dict(type='mmuniformer.TokenLabelResize', label_size=(2, 5)))
    assert type(built) is TokenLabelResize and built.label_size == (2, 5)
    # a pipeline mixing mmpretrain's and ours composes
    from mmcv.transforms import Compose
    pipe = Compose([dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                    dict(type='mmuniformer.TokenLabelFlip')])
    label = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    out = pipe(dict(img=np.zeros((8, 8, 3), np.uint8), token_label=label))
    np.testing.assert_array_equal(out['token_label'], label[:, :, ::-1])


def _python(code: str, cwd: str) -> str:
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, '-c', code], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_custom_imports_in_fresh_process(tmp_path):
    pytest.importorskip('mmdet')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(textwrap.dedent(f"""
        custom_imports = dict(imports=['mmuniformer'], allow_failed_imports=False)
        model = dict(type='mmuniformer.UniFormer', arch={TINY!r}, out_indices=(0, 1, 2, 3),
                     out_norm='ln')
    """))
    out = _python(textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        assert 'mmuniformer' not in sys.modules
        cfg = Config.fromfile({str(cfg)!r})
        assert 'mmuniformer' in sys.modules
        import torch
        from mmdet.registry import MODELS
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
        model = MODELS.build(cfg.model).eval()
        outs = model(torch.randn(1, 3, 64, 96))
        print(type(model).__module__, [tuple(o.shape) for o in outs])
    """), str(tmp_path))
    assert out.split()[0] == 'mmuniformer.models.backbones.uniformer'
    assert '[(1, 16, 16, 24), (1, 32, 8, 12), (1, 64, 4, 6), (1, 128, 2, 3)]' in out


BLOCK = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # import fails, importlib.util.find_spec returns None
import importlib.util
assert all(importlib.util.find_spec(n) is None for n in {blocked!r})
"""


@pytest.mark.parametrize('blocked, lib', [
    (['mmaction'], 'mmdet'),
    (['mmaction', 'mmpretrain', 'mmseg', 'mmpose'], 'mmdet'),
    (['mmdet', 'mmseg', 'mmpose', 'mmpretrain'], 'mmaction'),
], ids=['no-mmaction', 'only-mmdet', 'only-mmaction'])
def test_import_with_libraries_missing(blocked, lib, tmp_path):
    pytest.importorskip(lib)
    code = BLOCK.format(blocked=blocked) + textwrap.dedent(f"""
        import torch
        import mmuniformer
        from {lib}.registry import MODELS
        model = MODELS.build(dict(type='mmuniformer.UniFormer', arch={TINY!r})).eval()
        with torch.no_grad():
            out = model(torch.randn(1, 3, 64, 64))
        assert type(model).__module__.startswith('mmuniformer')
        loaded = sorted(n for n in {blocked!r} if sys.modules.get(n) is not None)
        print('OK', tuple(out[-1].shape), loaded)
    """)
    out = _python(code, str(tmp_path))
    assert 'OK (1, 128, 2, 2) []' in out, out


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, inputs, target=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(x)
        if mode == 'loss':
            y = torch.stack(target) if isinstance(target, list) else target
            return dict(loss=((out - y)**2).mean())
        return out


def test_runner_checkpoint_loads_after_import(tmp_path):
    from mmengine.runner import Runner, load_checkpoint
    data = [dict(inputs=torch.randn(3), target=torch.randn(2)) for _ in range(4)]
    runner = Runner(
        model=_ToyModel(), work_dir=str(tmp_path), experiment_name='test_registry_ckpt',
        train_dataloader=dict(dataset=data, batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        default_scope='mmengine')
    runner.train()
    path = osp.join(str(tmp_path), 'iter_2.pth')
    assert osp.isfile(path)
    if tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6):
        # the case mmuniformer.compat exists for: without the allow-list, torch's
        # weights-only default rejects mmengine's message hub
        saved = torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()
        try:
            with pytest.raises(pickle.UnpicklingError):
                torch.load(path)
        finally:
            torch.serialization.add_safe_globals(saved)
    assert mmuniformer.compat.allow_mmengine_checkpoints() is False  # done once, by the import
    model = _ToyModel()
    checkpoint = load_checkpoint(model, path, map_location='cpu')
    assert 'message_hub' in checkpoint and checkpoint['meta']['iter'] == 2
    hub = checkpoint['message_hub']
    assert 'train/loss' in hub['log_scalars']
    for key, value in runner.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, atol=0, rtol=0)
    missing = osp.join(str(tmp_path), 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint(_ToyModel(), missing)


class _RunsCode:
    """Unpickling it would run a shell command."""

    def __reduce__(self):
        return (os.system, ('touch pwned',))


class _ReachesOut:
    """Unpickling it would reach any attribute through getattr."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__subclasses__'))


@pytest.mark.parametrize('payload', [_RunsCode(), _ReachesOut()], ids=['os.system', 'getattr'])
def test_crafted_pickles_are_refused(payload, tmp_path, monkeypatch):
    """The allow-list keeps weights-only loading shut: a checkpoint that would run code
    (or call getattr beyond HistoryBuffer's statistics) is refused, by torch and by
    mmengine's loader, and nothing runs."""
    from mmengine.runner import load_checkpoint
    monkeypatch.chdir(tmp_path)
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 3)}, 'meta': {'x': payload}}, path)
    assert mmuniformer.compat.allow_mmengine_checkpoints() is False  # active since import
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(_ToyModel(), path, map_location='cpu')
    assert not (tmp_path / 'pwned').exists()


def test_import_registers_per_library(tmp_path):
    """``import mmuniformer`` imports no task library; building an mmpretrain-only module
    by scoped name imports its extension then (and only mmpretrain's)."""
    pytest.importorskip('mmpretrain')
    out = _python(textwrap.dedent(f"""
        import sys, time
        start = time.perf_counter()
        import mmuniformer
        took = time.perf_counter() - start
        libs = {LIBS!r}
        assert not [n for n in libs if n in sys.modules], [n for n in libs if n in sys.modules]
        assert 'mmuniformer.models.heads' not in sys.modules
        from mmpretrain.registry import MODELS
        head = MODELS.build(dict(type='mmuniformer.TokenLabelClsHead', num_classes=3,
                                 in_channels=8))
        ours = sorted(n for n in sys.modules if n.startswith('mmuniformer.')
                      and n.count('.') == 2
                      and not n.startswith(('mmuniformer.models.backbones', 'mmuniformer.engine')))
        print('OK', type(head).__module__, 'mmaction' in sys.modules, ours, f'{{took:.2f}}')
    """), str(tmp_path))
    # mmpretrain's extensions only (mmpretrain itself may import mmdet; not mmaction)
    assert "OK mmuniformer.models.heads.token_label_head False ['mmuniformer.models.classifiers', " \
           "'mmuniformer.models.heads', 'mmuniformer.models.layers']" in out, out
