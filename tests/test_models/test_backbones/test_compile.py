"""``torch.compile`` of the backbones captures each forward as one graph (no graph breaks).

``fullgraph=True`` makes dynamo raise at the first graph break; the ``eager`` backend runs
the captured graph with the ordinary kernels (tracing only, cheap on CPU), so the compiled
output must equal the eager one.
"""
import pytest
import torch

from mmuniformer.models.backbones import UniFormer, UniFormerLight
from mmuniformer.models.layers import set_fused

SMALL = dict(depths=(1, 1, 3, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
LIGHT = dict(depths=(1, 1, 3, 2), embed_dims=(16, 32, 64, 128), head_dim=16)

CASES = {
    'image global': (lambda: UniFormer(SMALL, out_indices=(0, 1, 2, 3)), (2, 3, 64, 64)),
    'image window (padded)': (lambda: UniFormer(SMALL, stage3_mode='window', window_size=3,
                                                out_norm='ln', out_indices=(0, 1, 2, 3)),
                              (1, 3, 64, 80)),
    'image hybrid': (lambda: UniFormer(SMALL, stage3_mode='hybrid', window_size=2,
                                       hybrid_global_every=2, out_norm='ln', out_indices=(2, 3)),
                     (1, 3, 64, 64)),
    'video global': (lambda: UniFormer(SMALL, ndim=3), (1, 3, 4, 64, 64)),
    'video split': (lambda: UniFormer(SMALL, ndim=3, split=True), (1, 3, 4, 64, 64)),
    'light image': (lambda: UniFormerLight(LIGHT, out_score_token=True), (2, 3, 64, 64)),
    'light video': (lambda: UniFormerLight(LIGHT, ndim=3), (1, 3, 4, 64, 64)),
}


@pytest.mark.parametrize('name,use_sdpa', [(name, True) for name in CASES] +
                         [('light image', False), ('image window (padded)', False)])
def test_fullgraph_compile(name: str, use_sdpa: bool) -> None:
    make, shape = CASES[name]
    torch.manual_seed(0)
    model = make().eval()
    if isinstance(model, UniFormerLight):
        with torch.no_grad():
            model.cls_token.normal_()  # distinct token scores (the init is zeros)
    set_fused(model, use_sdpa, 'attention')
    x = torch.randn(shape)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend='eager')
    with torch.no_grad():
        got = compiled(x)
    with torch.enable_grad():  # the plain path, which dynamo traces (the inference kernels are eager-only)
        expected = model(x)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fullgraph_compile_training_step() -> None:
    """Forward and backward of a training step of the light model (token selection with
    gradients) compile whole and give the eager gradients."""
    torch.manual_seed(0)
    model = UniFormerLight(LIGHT, out_score_token=True, drop_path_rate=0.)
    model.train()
    x = torch.randn(2, 3, 64, 64)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend='eager')
    sum(o.mean() for o in compiled(x)).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    sum(o.mean() for o in model(x)).backward()
    for n, p in model.named_parameters():
        torch.testing.assert_close(grads[n], p.grad, msg=n)
