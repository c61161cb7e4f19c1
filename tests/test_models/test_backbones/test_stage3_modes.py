"""Train global, test windowed on the same weights (``eval_stage3_mode``), as the paper
does for segmentation: the switch follows ``train()`` / ``eval()`` and changes no weight."""
import pytest
import torch

from mmuniformer.models.backbones import UniFormer

TINY = dict(depths=(1, 1, 8, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


def _outputs(model: UniFormer, x: torch.Tensor):
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize('eval_mode', ['window', 'hybrid'])
def test_eval_stage3_mode_equals_a_model_built_in_that_mode(eval_mode):
    torch.manual_seed(0)
    switching = UniFormer(TINY, out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode='global',
                          eval_stage3_mode=eval_mode, window_size=3)
    fixed = {mode: UniFormer(TINY, out_indices=(0, 1, 2, 3), out_norm='ln', stage3_mode=mode,
                             window_size=3) for mode in ('global', eval_mode)}
    for model in fixed.values():
        assert set(model.state_dict()) == set(switching.state_dict())
        model.load_state_dict(switching.state_dict())
    x = torch.randn(2, 3, 6 * 16, 5 * 16)  # stage 3: 6 x 5 tokens, windows of 3 (padded)
    switching.eval()
    for a, b in zip(_outputs(switching, x), _outputs(fixed[eval_mode].eval(), x)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # hybrid: blocks 4 and 8 of stage 3 global (every 4th), the other six windowed
    expected = [3] * 8 if eval_mode == 'window' else [3, 3, 3, None, 3, 3, 3, None]
    assert [b.window_size for b in switching.blocks3] == expected
    switching.train()
    assert [b.window_size for b in switching.blocks3] == [None] * 8
    fixed['global'].train()
    torch.manual_seed(1)  # dropout-free model: training mode only changes BatchNorm statistics
    out_train = _outputs(switching, x)
    out_global = _outputs(fixed['global'], x)
    for a, b in zip(out_train, out_global):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # and the windowed result differs from the global one on this input
    assert not torch.allclose(_outputs(switching.eval(), x)[2], _outputs(fixed['global'].eval(), x)[2])
