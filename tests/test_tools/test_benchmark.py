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


def test_cpu_peak_by_hand() -> None:
    """One core's peak: FMA lanes x 2 pipes x 2 FLOPs x GHz; AVX512-BF16 doubles the fp32 rate;
    AMX-BF16 does 1024 bf16 multiply-adds per cycle."""
    zen4 = frozenset({'avx2', 'avx512f', 'avx512_bf16'})
    assert bench.cpu_peak_gflops('fp32', zen4, 'AuthenticAMD', 0x19, 2.5)[0] == 8 * 2 * 2 * 2.5
    assert bench.cpu_peak_gflops('bf16', zen4, 'AuthenticAMD', 0x19, 2.5)[0] == 2 * 32 * 2.5
    spr = frozenset({'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16'})
    assert bench.cpu_peak_gflops('fp32', spr, 'GenuineIntel', 6, 2.)[0] == 16 * 2 * 2 * 2.
    peak, how = bench.cpu_peak_gflops('bf16', spr, 'GenuineIntel', 6, 2.)
    assert peak == 2048 * 2. and how.startswith('amx_bf16')
    assert bench.cpu_peak_gflops('bf16', frozenset({'avx2'}), 'GenuineIntel', 6, 3.)[0] == 32 * 3.
    assert bench.cpu_peak_gflops('fp32', frozenset(), 'GenuineIntel', 6, 3.)[0] is None


def test_optimize_report(tmp_path: Path) -> None:
    """--optimize times optimize()'s model; every row has its GFLOP/s (2 x the counted
    multiply-adds / median time) and, on CPU, its share of the stated peak."""
    out = tmp_path / 'bench.json'
    bench.main([IMAGE_CFG, '--batch-size', '2', '--input-size', '32', '--repeat', '2',
                '--warmup', '1', '--optimize', '--dtype', 'fp32', '--cpu-time', '--mode', 'infer',
                '--cpu-ghz', '2.0', '--json', str(out)])
    report = json.loads(out.read_text())
    assert report['optimize'] and report['dtype'] == 'fp32'
    assert [r['variant'] for r in report['results']] == ['ours optimize(fp32)']
    from mmuniformer.analysis import count_params_flops
    from mmuniformer.apis import build_model_from_config
    model = build_model_from_config(IMAGE_CFG)[0]
    _, macs = count_params_flops(model, torch.randn(2, 3, 32, 32),
                                 lambda m, x: m(x, mode='tensor'))
    row = report['results'][0]
    assert row['gflops'] == pytest.approx(2 * macs / (row['median_ms'] / 1e3) / 1e9, rel=1e-6)
    assert row['peak_share'] == pytest.approx(row['gflops'] / report['peak_gflops']['fp32'])
    assert set(report['matrix_units']) <= {'amx_bf16', 'avx512_bf16', 'avx512f', 'avx2'}


@pytest.mark.parametrize('flags,expected', [({'avx2', 'avx512f'}, 'fp32'),
                                            ({'avx2', 'avx512f', 'avx512_bf16'}, 'bf16'),
                                            ({'avx2', 'amx_bf16'}, 'bf16')])
def test_dtype_auto_follows_the_cpu(monkeypatch, flags: set, expected: str) -> None:
    import sys
    monkeypatch.setattr(sys.modules['mmuniformer.apis.optimize'], 'cpu_flags',
                        lambda: frozenset(flags))
    assert bench.parse_args([IMAGE_CFG, '--dtype', 'auto', '--device', 'cpu']).dtype == expected
