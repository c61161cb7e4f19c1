"""Every bad backbone argument raises a ValueError/TypeError that names the argument and
what is accepted; options without effect for the chosen ``ndim`` are refused alike by
both backbones."""
import pytest
import torch

from mmuniformer.models.backbones import UniFormer, UniFormerLight

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
TINY_LIGHT = dict(TINY, mlp_ratio=3.)

# (backbone, kwargs, message regex): one row per bad argument
BAD = [
    (UniFormer, dict(arch='tiny'), r"unknown UniFormer arch 'tiny'; choose one of \[.*'small'"),
    (UniFormerLight, dict(arch='small'), r"unknown UniFormerLight arch 'small'; choose one of "
     r"\['xs', 'xxs'\]"),
    (UniFormer, dict(arch=3), r'arch must be a str or dict, got int'),
    (UniFormer, dict(arch=dict(TINY, heads=2)), r"unknown keys \['heads'\].*accepted keys"),
    (UniFormerLight, dict(arch=dict(TINY_LIGHT, stem='conv')), r"unknown keys \['stem'\]"),
    (UniFormer, dict(arch=dict(depths=(1, 1, 1, 1), embed_dims=(8, 8, 8, 8))),
     r"lacks \['head_dim'\]"),
    (UniFormer, dict(arch=dict(TINY, depths=(1, 1, 1))), r'need 4 entries'),
    (UniFormer, dict(arch=dict(TINY, stem='overlap')), r"stem must be 'plain' or 'conv'"),
    (UniFormer, dict(arch=dict(TINY, head_dim=24)), r'embed dim 64 is not divisible by head_dim 24'),
    (UniFormerLight, dict(arch=dict(TINY_LIGHT, depths=(1, 1, 0, 1))),
     r'depths \(1, 1, 0, 1\) must be at least \(0, 0, 1, 1\)'),
    (UniFormer, dict(ndim=4), r'ndim must be 2 \(images\) or 3 \(video\), got 4'),
    (UniFormerLight, dict(ndim=1), r'ndim must be 2 \(images\) or 3 \(video\), got 1'),
    (UniFormer, dict(in_channels=0), r'in_channels must be a positive int, got 0'),
    (UniFormer, dict(out_indices=(0, 4)), r'out_indices must be stage indices in 0\.\.3'),
    (UniFormerLight, dict(out_indices=()), r'out_indices must be stage indices in 0\.\.3'),
    (UniFormer, dict(out_norm='gn'), r"out_norm must be one of \('bn', 'ln', None\)"),
    (UniFormer, dict(frozen_stages=4), r'frozen_stages must be in -1\.\.3, got 4'),
    (UniFormerLight, dict(frozen_stages=-2), r'frozen_stages must be in -1\.\.3, got -2'),
    (UniFormer, dict(out_tuple=False, out_indices=(2, 3)), r'out_tuple=False .* exactly one'),
    (UniFormer, dict(stage3_mode='shifted'), r"stage3_mode must be one of \('global', 'window', "
     r"'hybrid'\)"),
    (UniFormer, dict(stage3_mode='window', window_size=0), r'window_size must be a positive int, '
     r'got 0'),
    (UniFormer, dict(stage3_mode='hybrid', window_size=7.5), r'window_size must be a positive int'),
    (UniFormer, dict(stage3_mode='hybrid', hybrid_global_every=0),
     r'hybrid_global_every must be a positive int, got 0'),
    (UniFormer, dict(ndim=3, stage3_mode='window'), r"stage3_mode='window' .* images \(ndim=2\) only"),
    (UniFormer, dict(ndim=3, temporal_stride=0), r'temporal_stride must be a positive int, got 0'),
    (UniFormer, dict(ndim=3, temporal_kernel=-1), r'temporal_kernel must be a positive int, got -1'),
    (UniFormerLight, dict(ndim=3, temporal_stride=0), r'temporal_stride must be a positive int'),
    (UniFormer, dict(ndim=3, inflate='zero'), r"inflate must be one of \('average', 'center'\)"),
    (UniFormerLight, dict(ndim=3, inflate='zero'), r"inflate must be one of"),
    (UniFormer, dict(ndim=3, std=True, arch='small_plus'), r"std=True changes the plain stem"),
    # video options on an image backbone have no effect: refused by both backbones
    (UniFormer, dict(temporal_stride=1), r"\['temporal_stride'\] are video options .*\(ndim=2\)"),
    (UniFormer, dict(temporal_kernel=1), r"\['temporal_kernel'\] are video options"),
    (UniFormer, dict(inflate='center'), r"\['inflate'\] are video options"),
    (UniFormer, dict(split=True), r"\['split'\] are video options"),
    (UniFormer, dict(std=True), r"\['std'\] are video options"),
    (UniFormerLight, dict(temporal_stride=1), r"\['temporal_stride'\] are video options"),
    (UniFormerLight, dict(inflate='center'), r"\['inflate'\] are video options"),
    (UniFormerLight, dict(keep_ratio=0.), r'keep_ratio must be in \(0, 1\], got 0\.0'),
    (UniFormerLight, dict(trade_off=1.5), r'trade_off must be in \[0, 1\], got 1\.5'),
    (UniFormerLight, dict(out_tuple=False, out_score_token=True), r'out_score_token=False'),
    (UniFormer, dict(init_cfg=dict(type='Pretrained', checkpoint='x.pth', strict_keys=True)),
     r"Pretrained init_cfg has unknown keys \['strict_keys'\]"),
]


def _id(row) -> str:
    cls, kwargs, _ = row
    return f'{cls.__name__}-' + '-'.join(f'{k}={v}' for k, v in kwargs.items())[:60]


@pytest.mark.parametrize('cls, kwargs, message', BAD, ids=[_id(r) for r in BAD])
def test_bad_argument_raises(cls, kwargs, message):
    kwargs = dict(kwargs)
    kwargs.setdefault('arch', TINY if cls is UniFormer else TINY_LIGHT)
    with pytest.raises((ValueError, TypeError), match=message):
        model = cls(**kwargs)
        model.init_weights()  # init_cfg problems surface here


@pytest.mark.parametrize('cls', [UniFormer, UniFormerLight])
def test_video_options_accepted_with_ndim3(cls):
    kwargs = dict(temporal_stride=1, inflate='center')
    if cls is UniFormer:
        kwargs.update(temporal_kernel=1, split=True)
    model = cls(TINY if cls is UniFormer else TINY_LIGHT, ndim=3, **kwargs).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 4, 64, 64))
    # stride 1 in time keeps the 4 frames; 64 / 32 = 2 in space
    assert out[-1].shape == (1, 128, 4, 2, 2)


@pytest.mark.parametrize('cls, shape, message', [
    (UniFormer, (1, 3, 64), r'expects images \(B, C, H, W\), got shape \(1, 3, 64\)'),
    (UniFormer, (1, 3, 4, 64, 64), r'\(set ndim=3 for video\)'),
    (UniFormer, (1, 1, 64, 64), r'built for 3 input channels, got 1'),
    (UniFormer, (1, 3, 16, 16), r'too small: stage 4 would have an empty feature map'),
    (UniFormerLight, (1, 3, 20, 20), r'too small.*H, W >= 29'),
])
def test_bad_input_raises(cls, shape, message):
    model = cls(TINY if cls is UniFormer else TINY_LIGHT)
    with pytest.raises(ValueError, match=message):
        model(torch.randn(*shape))


@pytest.mark.parametrize('kwargs, message', [
    (dict(eval_stage3_mode='shifted'), r"eval_stage3_mode must be one of \('global'"),
    (dict(eval_stage3_mode='window', window_size=0), r'window_size must be a positive int'),
    (dict(ndim=3, eval_stage3_mode='hybrid'), r"eval_stage3_mode='hybrid' .* images"),
])
def test_bad_eval_stage3_mode(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UniFormer(TINY, **kwargs)
