"""Channels-last execution: 1x1 convolutions as matrix products, the backbones' layout."""
import pytest
import torch
import torch.nn.functional as F

from mmuniformer.models.backbones import UniFormer, UniFormerLight
from mmuniformer.models.layers import LocalBlock, PointwiseConv2d, PointwiseConv3d


@pytest.mark.parametrize('cls,shape,fmt,conv', [
    (PointwiseConv2d, (2, 8, 5, 6), torch.channels_last, F.conv2d),
    (PointwiseConv3d, (2, 8, 3, 5, 6), torch.channels_last_3d, F.conv3d),
])
def test_pointwise_equals_the_convolution(cls, shape, fmt, conv) -> None:
    torch.manual_seed(0)
    m = cls(8, 12)
    assert isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))
    assert m.weight.shape[2:] == (1, ) * (len(shape) - 2)
    x = torch.randn(shape)
    expected = conv(x, m.weight, m.bias)
    out_first = m(x)  # channels-first input: the convolution itself
    out_last = m(x.contiguous(memory_format=fmt))  # channels-last: the matmul
    torch.testing.assert_close(out_first, expected)
    torch.testing.assert_close(out_last, expected)
    assert out_last.is_contiguous(memory_format=fmt)
    out_last.sum().backward()
    w_grad = m.weight.grad.clone()
    m.weight.grad = None
    expected.sum().backward()
    torch.testing.assert_close(w_grad, m.weight.grad)


def test_local_block_same_output_in_both_layouts() -> None:
    torch.manual_seed(0)
    block = LocalBlock(16, ndim=2).eval()
    x = torch.randn(2, 16, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(block(x.contiguous(memory_format=torch.channels_last)),
                                   block(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('make,shape,fmt', [
    (lambda: UniFormer(dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 128), head_dim=16,
                            stem='conv'), out_indices=(0, 1, 2, 3), out_norm=None),
     (2, 3, 64, 64), torch.channels_last),
    (lambda: UniFormerLight(dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16),
                            ndim=3, out_indices=(0, 1, 2, 3), out_norm=None),
     (2, 3, 4, 64, 64), torch.channels_last_3d),
])
def test_backbones_run_channels_last(make, shape, fmt) -> None:
    """Every block runs on channels-last maps, also after a conv stem; the outputs leave the
    backbone in the standard contiguous layout (what mmcv's compiled ops read)."""
    from mmuniformer.models.layers import GlobalBlockBase, LocalBlock
    model = make().eval()
    layouts = []
    for m in model.modules():
        if isinstance(m, (LocalBlock, GlobalBlockBase)):
            m.register_forward_pre_hook(lambda mod, args: layouts.append(
                args[0].is_contiguous(memory_format=fmt)))
    with torch.no_grad():
        outs = model(torch.randn(shape))
    assert len(layouts) == sum(model.arch['depths']) and all(layouts)
    assert all(o.is_contiguous() for o in outs)
