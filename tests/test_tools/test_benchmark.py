"""tools/benchmark.py: the compared models are the same function, the report's numbers are
consistent, memory is measured, bad arguments are refused."""
import json
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, load_module, randomise_bn

bench = load_module(Path(REPO) / 'tools/benchmark.py')
VIDEO_CFG = 'projects/quickstart/configs/uniformer_tiny_motion.py'
IMAGE_CFG = 'projects/quickstart/configs/uniformer_tiny_shapes.py'


def test_mmaction_uniformer_has_our_weights_and_outputs() -> None:
    pytest.importorskip('mmaction')
    from mmuniformer.models.backbones import UniFormer
    torch.manual_seed(0)
    ours = randomise_bn(UniFormer(dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128),
                                       head_dim=16), ndim=3)).eval()
    theirs = bench.mmaction_uniformer(ours).eval()
    assert type(theirs).__module__ == 'mmaction.models.backbones.uniformer'
    x = torch.randn(1, 3, 4, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(theirs(x), ours(x)[0], atol=1e-5, rtol=1e-4)
    # models mmaction2's UniFormer cannot express are not compared
    assert bench.mmaction_uniformer(UniFormer(dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 128),
                                                   head_dim=16), ndim=3, split=True)) is None
    assert bench.mmaction_uniformer(UniFormer(dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 128),
                                                   head_dim=16))) is None


def test_peak_memory_of_a_known_allocation() -> None:
    def run() -> torch.Tensor:
        a = torch.ones(1 << 20)  # 4 MiB
        b = a * 2  # another 4 MiB while a is alive
        del a
        return b.sum()
    assert bench.peak_memory_mb(run, torch.device('cpu')) == pytest.approx(8, abs=0.1)


def test_compare_report(tmp_path: Path) -> None:
    out = tmp_path / 'bench.json'
    bench.main([VIDEO_CFG, '--batch-size', '2', '--input-size', '32', '--frames', '4',
                '--repeat', '2', '--warmup', '1', '--compare', '--dtype', 'bf16', '--cpu-time',
                '--json', str(out)])
    report = json.loads(out.read_text())
    assert report['input_shape'] == [2, 3, 4, 32, 32]
    assert report['dtype'] == 'bf16' and report['device'] == 'cpu' and report['clock'] == 'cpu time'
    names = [(r['variant'], r['mode']) for r in report['results']]
    both = ('infer', 'train')
    assert names == ([('ours (sdpa)', m) for m in both] + [('ours (explicit softmax)', m) for m in both]
                     + [('ours (plain kernels)', 'infer')]
                     + [(v, m) for v in ('ours backbone', 'mmaction2 UniFormer backbone') for m in both])
    for r in report['results']:
        assert len(r['times_ms']) == 2 and all(t > 0 for t in r['times_ms'])
        assert r['median_ms'] == pytest.approx(sum(r['times_ms']) / 2)
        assert r['throughput'] == pytest.approx(2 / (r['median_ms'] / 1e3))
        assert r['peak_mem_mb'] > 0
    by = {(r['variant'], r['mode']): r for r in report['results']}
    assert report['ratios']['infer: explicit / sdpa time'] == pytest.approx(
        by[('ours (explicit softmax)', 'infer')]['median_ms'] / by[('ours (sdpa)', 'infer')]['median_ms'])
    assert report['ratios']['infer: plain kernels / ours time'] == pytest.approx(
        by[('ours (plain kernels)', 'infer')]['median_ms'] / by[('ours (sdpa)', 'infer')]['median_ms'])
    assert report['ratios']['train: mmaction2 / ours time (speed-up)'] == pytest.approx(
        by[('mmaction2 UniFormer backbone', 'train')]['median_ms']
        / by[('ours backbone', 'train')]['median_ms'])
    # a training step holds the activations for backward: more than inference
    assert by[('ours (sdpa)', 'train')]['peak_mem_mb'] > by[('ours (sdpa)', 'infer')]['peak_mem_mb']


@pytest.mark.parametrize('args,message', [
    ([IMAGE_CFG, '--dtype', 'fp16', '--device', 'cpu'], 'fp16 autocast needs a CUDA device'),
    ([IMAGE_CFG, '--repeat', '0'], '--repeat must be >= 1'),
    ([IMAGE_CFG, '--input-size', '1', '2', '3'], '--input-size takes S or H W'),
    ([IMAGE_CFG, '--cpu-time', '--device', 'cuda:0'], '--cpu-time measures CPU devices only'),
])
def test_bad_arguments(capsys, args: list, message: str) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(args)
    assert message in capsys.readouterr().err


def test_frames_refused_for_images() -> None:
    with pytest.raises(SystemExit, match='--frames is for video models'):
        bench.main([IMAGE_CFG, '--frames', '4', '--repeat', '1', '--warmup', '0',
                    '--input-size', '32', '--batch-size', '1'])
