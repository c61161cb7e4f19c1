"""Every argument of our backbones, blocks, heads, classifiers and transforms is checked at
construction: a bad one raises a ValueError/TypeError naming the argument, the value given and
what is accepted, never a ZeroDivisionError, a tensor-shape error at the first forward or a
silent misuse (a drop-path rate of 1.5 acting as 0.5, a layer scale that is never built)."""
import importlib.util

import pytest
import torch

from mmuniformer.models.backbones import UniFormer, UniFormerLight
from mmuniformer.models.backbones.uniformer_light import HourglassBlock
from mmuniformer.models.layers import (Attention, GlobalBlock, LayerScale, LocalBlock, Mlp,
                                       SplitGlobalBlock)

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(TINY, mlp_ratio=3.)


def _backbone(cls, **kwargs):
    kwargs.setdefault('arch', TINY if cls is UniFormer else TINY_LIGHT)
    return lambda: cls(**kwargs)


def _needs(lib, make):
    def wrapped():
        pytest.importorskip(lib)
        return make()
    return wrapped


def _transform(name, **kwargs):
    def make():
        pytest.importorskip('mmpretrain')
        from mmuniformer.datasets import token_label
        return getattr(token_label, name)(**kwargs)
    return make


# (id, constructor, expected exception, message fragment)
BAD = [
    # --- rates: [0, 1); 1 would drop everything, > 1 acted as 2 - p
    ('drop_path_rate=1', _backbone(UniFormer, drop_path_rate=1.), ValueError,
     'drop_path_rate must be a number in [0, 1), got 1.0'),
    ('drop_path_rate=1.5 light', _backbone(UniFormerLight, drop_path_rate=1.5), ValueError,
     'drop_path_rate must be a number in [0, 1), got 1.5'),
    ('drop_path_rate<0', _backbone(UniFormer, drop_path_rate=-0.1), ValueError,
     'drop_path_rate must be a number in [0, 1), got -0.1'),
    ('drop_rate=1', _backbone(UniFormer, drop_rate=1.), ValueError,
     'drop_rate must be a number in [0, 1), got 1.0'),
    ('attn_drop_rate=2', _backbone(UniFormerLight, attn_drop_rate=2), ValueError,
     'attn_drop_rate must be a number in [0, 1), got 2'),
    ('drop_rate str', _backbone(UniFormer, drop_rate='0.1'), ValueError,
     "drop_rate must be a number in [0, 1), got '0.1'"),
    # --- arch: dims, head dims, MLP ratio, layer-scale stages
    ('head_dim=0', _backbone(UniFormer, arch=dict(TINY, head_dim=0)), ValueError,
     'UniFormer arch head_dim must be a positive int, got 0'),
    ('head_dim<0', _backbone(UniFormer, arch=dict(TINY, head_dim=-16)), ValueError,
     'UniFormer arch head_dim must be a positive int, got -16'),
    ('light head_dim=0', _backbone(UniFormerLight, arch=dict(TINY_LIGHT, head_dim=0)),
     ValueError, 'UniFormerLight arch head_dim must be a positive int, got 0'),
    ('embed_dims 0', _backbone(UniFormer, arch=dict(TINY, embed_dims=(0, 32, 64, 128))),
     ValueError, 'UniFormer arch embed_dims[0] must be a positive int, got 0'),
    ('depths float', _backbone(UniFormer, arch=dict(TINY, depths=(1, 1.5, 2, 1))), ValueError,
     'UniFormer arch depths must be ints >= 0, got (1, 1.5, 2, 1)'),
    ('mlp_ratio=0', _backbone(UniFormer, arch=dict(TINY, mlp_ratio=0)), ValueError,
     'UniFormer arch mlp_ratio must be a number > 0, got 0'),
    ('light mlp_ratio<0', _backbone(UniFormerLight, arch=dict(TINY_LIGHT, mlp_ratio=-3.)),
     ValueError, 'UniFormerLight arch mlp_ratio must be a number > 0, got -3.0'),
    ('layer_scale_stages=4', _backbone(UniFormer, arch=dict(TINY, layer_scale_stages=(2, 4))),
     ValueError, 'UniFormer arch layer_scale_stages must be stage indices in 0..3, got (2, 4)'),
    ('layer_scale_stages int', _backbone(UniFormerLight,
                                         arch=dict(TINY_LIGHT, layer_scale_stages=3)),
     ValueError, 'UniFormerLight arch layer_scale_stages must be stage indices in 0..3, got 3'),
    ('layer_scale_init ignored', _backbone(UniFormer, layer_scale_init=0.1), ValueError,
     'layer_scale_init=0.1 has no effect: arch dict has no layer_scale_stages'),
    ('layer_scale_init=0', _backbone(UniFormer, arch=dict(TINY, layer_scale_stages=(3, )),
                                     layer_scale_init=0.), ValueError,
     'layer_scale_init must be a number > 0, got 0.0'),
    # --- stages: out_indices, frozen_stages
    ('out_indices twice', _backbone(UniFormer, out_indices=(3, -1)), ValueError,
     'out_indices must name each stage once, got (3, -1)'),
    ('out_indices str', _backbone(UniFormerLight, out_indices=('3', )), ValueError,
     "out_indices must be stage indices in 0..3 (or -4..-1), got ('3',)"),
    ('out_indices -5', _backbone(UniFormer, out_indices=(-5, )), ValueError,
     'out_indices must be stage indices in 0..3 (or -4..-1), got (-5,)'),
    ('frozen_stages bool', _backbone(UniFormer, frozen_stages=True), ValueError,
     'frozen_stages must be in -1..3, got True'),
    # --- flags: a string 'False' would count as True
    ('norm_eval str', _backbone(UniFormer, norm_eval='False'), TypeError,
     "norm_eval must be True or False, got 'False'"),
    ('with_cp int', _backbone(UniFormerLight, with_cp=1), TypeError,
     'with_cp must be True or False, got 1'),
    ('use_sdpa str', _backbone(UniFormer, use_sdpa='no'), TypeError,
     "use_sdpa must be True or False, got 'no'"),
    ('split str', _backbone(UniFormer, ndim=3, split='yes'), TypeError,
     "split must be True or False, got 'yes'"),
    ('out_score_token str', _backbone(UniFormerLight, out_score_token='yes'), TypeError,
     "out_score_token must be True or False, got 'yes'"),
    ('keep_ratio str', _backbone(UniFormerLight, keep_ratio='0.5'), ValueError,
     "keep_ratio must be in (0, 1], got '0.5'"),
    ('window_size<0 hybrid', _backbone(UniFormer, stage3_mode='hybrid', window_size=-2),
     ValueError, 'window_size must be a positive int, got -2'),
    # --- blocks
    ('LocalBlock mlp_ratio=0', lambda: LocalBlock(16, mlp_ratio=0), ValueError,
     'mlp_ratio must be a number > 0, got 0'),
    ('LocalBlock drop_path=1', lambda: LocalBlock(16, drop_path=1.), ValueError,
     'drop_path must be a number in [0, 1), got 1.0'),
    ('LocalBlock dpe even', lambda: LocalBlock(16, dpe_kernel=4), ValueError,
     'dpe_kernel must be odd positive ints (same-size padding), got (4, 4)'),
    ('LocalBlock local 3 values', lambda: LocalBlock(16, local_kernel=(5, 5, 5)), ValueError,
     'local_kernel takes an int or 2 ints (one per dim), got (5, 5, 5)'),
    ('LocalBlock dim=0', lambda: LocalBlock(0), ValueError, 'dim must be a positive int, got 0'),
    ('GlobalBlock heads=0', lambda: GlobalBlock(16, 0), ValueError,
     'num_heads must be a positive int, got 0'),
    ('GlobalBlock mlp_ratio<0', lambda: GlobalBlock(16, 2, mlp_ratio=-1.), ValueError,
     'mlp_ratio must be a number > 0, got -1.0'),
    ('GlobalBlock eval window', lambda: GlobalBlock(16, 2, eval_window_size=0), ValueError,
     'eval_window_size must be a positive int, got 0'),
    ('GlobalBlock window video', lambda: GlobalBlock(16, 2, ndim=3, eval_window_size=7),
     ValueError, 'eval_window_size=7: window attention is implemented for 2-D inputs'),
    ('SplitGlobalBlock eval window', lambda: SplitGlobalBlock(16, 2, eval_window_size=4),
     ValueError, 'split (divided space-time) attention has no windows'),
    ('Attention attn_drop=1', lambda: Attention(16, 2, attn_drop=1.), ValueError,
     'attn_drop must be a number in [0, 1), got 1.0'),
    ('Attention proj_drop<0', lambda: Attention(16, 2, proj_drop=-0.5), ValueError,
     'proj_drop must be a number in [0, 1), got -0.5'),
    ('Mlp hidden=0', lambda: Mlp(16, 0), ValueError, 'hidden_dim must be a positive int, got 0'),
    ('LayerScale init=0', lambda: LayerScale(16, 0., True), ValueError,
     'layer_scale must be a number > 0, got 0.0'),
    ('Hourglass fast scale str', lambda: HourglassBlock(16, 2, separate_fast_scale='no'),
     TypeError, "separate_fast_scale must be True or False, got 'no'"),
    # --- heads and classifiers (mmpretrain, mmaction2)
    ('TokenLabelClsHead classes=0',
     _needs('mmpretrain', lambda: _cls('heads', 'TokenLabelClsHead')(num_classes=0,
                                                                      in_channels=8)),
     ValueError, 'num_classes must be a positive int, got 0'),
    ('TokenLabelClsHead smoothing=1',
     _needs('mmpretrain', lambda: _cls('heads', 'TokenLabelClsHead')(
         num_classes=10, in_channels=8, label_smooth_val=1.)),
     ValueError, 'label_smooth_val must be a number in [0, 1), got 1.0'),
    ('TokenLabelClsHead weight<0',
     _needs('mmpretrain', lambda: _cls('heads', 'TokenLabelClsHead')(
         num_classes=10, in_channels=8, dense_weight=-1.)),
     ValueError, 'dense_weight must be a number >= 0, got -1.0'),
    ('UniFormerLightClsHead loss_weights<0',
     _needs('mmpretrain', lambda: _cls('heads', 'UniFormerLightClsHead')(
         num_classes=10, in_channels=8, loss_weights=(0.5, -0.5))),
     ValueError, 'loss_weights takes two weights (pooled map, score token) >= 0, got (0.5, -0.5)'),
    ('UniFormerLightClsHead in_channels=0',
     _needs('mmpretrain', lambda: _cls('heads', 'UniFormerLightClsHead')(
         num_classes=10, in_channels=0)),
     ValueError, 'in_channels must be a positive int, got 0'),
    ('TokenLabelClassifier mix_beta=0',
     _needs('mmpretrain', lambda: _cls('classifiers', 'TokenLabelClassifier')(mix_beta=0.)),
     ValueError, 'mix_beta must be a number > 0, got 0.0'),
    ('UniFormerLightVideoHead dropout=1',
     _needs('mmaction', lambda: _video_head(num_classes=10, in_channels=8, dropout_ratio=1.)),
     ValueError, 'dropout_ratio must be a number in [0, 1), got 1.0'),
    ('UniFormerLightVideoHead classes=0',
     _needs('mmaction', lambda: _video_head(num_classes=0, in_channels=8)),
     ValueError, 'num_classes must be a positive int, got 0'),
    # --- data transforms (mmpretrain)
    ('TokenLabelResize label_size=0', _transform('TokenLabelResize', label_size=0), ValueError,
     'label_size takes a positive int or (h, w) of positive ints, got 0'),
    ('TokenLabelRandomResizedCrop label_size 1 value',
     _transform('TokenLabelRandomResizedCrop', label_size=(7, ), scale=224), ValueError,
     'label_size takes a positive int or (h, w) of positive ints, got (7,)'),
    ('TokenLabelRandomResizedCrop box order str',
     _transform('TokenLabelRandomResizedCrop', official_box_order='yes', scale=224), TypeError,
     "official_box_order must be True or False, got 'yes'"),
    ('LoadTokenLabel classes=0', _transform('LoadTokenLabel', label_root='a', data_prefix='b',
                                            num_classes=0), ValueError,
     'num_classes must be a positive int, got 0'),
]


def _cls(package, name):
    module = importlib.import_module(f'mmuniformer.models.{package}')
    return getattr(module, name)


def _video_head(**kwargs):
    from mmuniformer.models.video_heads import UniFormerLightVideoHead
    return UniFormerLightVideoHead(**kwargs)


@pytest.mark.parametrize('make, error, message', [row[1:] for row in BAD],
                         ids=[row[0] for row in BAD])
def test_bad_argument_raises_at_construction(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize('make', [
    _backbone(UniFormer, drop_path_rate=0.3, drop_rate=0.1, attn_drop_rate=0.1),
    _backbone(UniFormer, arch=dict(TINY, layer_scale_stages=[2, 3]), layer_scale_init=0.1),
    _backbone(UniFormer, out_indices=[0, -1], frozen_stages=3),
    _backbone(UniFormerLight, keep_ratio=1, out_indices=3),
    lambda: GlobalBlock(16, 2, window_size=4, eval_window_size=None),
])
def test_good_arguments_build_and_run(make):
    """The accepted ranges include their ends and the usual spellings (lists, negative
    indices, ints for rates)."""
    model = make().eval()
    x = torch.randn(1, 16, 8, 8) if isinstance(model, GlobalBlock) else torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
    assert all(torch.isfinite(t).all() for t in (out if isinstance(out, tuple) else (out, )))
