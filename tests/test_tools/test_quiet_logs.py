"""The tools print what they did and nothing that reads as an error when there is none.

* ``tools/benchmark.py`` on a CPU: no ``ERROR: gpuGetDeviceCount failed`` and no profiler
  start/stop lines from the CPU memory measurement (kineto), just the table.
* ``tools/analysis/flops.py`` on the headline det config: no "could not trace" note (the
  mmdet forward it counts is the one meant; the fuller forward it tried first needs image
  metas), six report lines as for a classifier (``--verbose`` lists the forwards it tried).
"""
import re

from tests.conftest import run_python

TINY_CLS = 'projects/quickstart/configs/uniformer_tiny_shapes.py'
HEADLINE = 'configs/det/mask_rcnn_uniformer_s_h14_1x.py'


def test_benchmark_on_cpu_prints_no_profiler_noise():
    out = run_python(['tools/benchmark.py', TINY_CLS, '--device', 'cpu', '--mode', 'infer',
                      '--batch-size', '4', '--input-size', '128', '--warmup', '0',
                      '--repeat', '1', '--threads', '1'])
    assert 'gpuGetDeviceCount' not in out and 'ERROR' not in out, out[-2000:]
    assert not re.search(r'profiler_(start|stop)|ActivityProfiler|^(USDT|STAGE):', out, re.M)
    rows = [line for line in out.splitlines() if line.startswith('|')]
    assert len(rows) == 2  # header and one variant (inference of the whole model)
    peak = float(rows[1].strip('|').split('|')[-1])
    assert peak > 0  # the memory measurement that the profiler ran for still works


def test_flops_on_det_has_no_false_note():
    args = ['tools/analysis/flops.py', HEADLINE, '--shape', '128', '160',
            '--cfg-options', 'model.backbone.init_cfg=None']
    out = run_python(args)
    lines = [line for line in out.splitlines() if re.match(r'^[A-Za-z]+:', line)]
    assert 'could not trace' not in out and 'tried:' not in out, out[-2000:]
    assert [line.split(':')[0] for line in lines] == [
        'config', 'model', 'input', 'counted', 'Params', 'FLOPs']
    assert 'synthetic image meta' in next(line for line in lines if line.startswith('counted'))
    assert 'backbone + neck + rpn_head + roi_head' in out
