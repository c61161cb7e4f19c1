"""Whole-model deployment (tools/deployment/pytorch2onnx.py): the classifier, recogniser,
segmentor (decode head and resize included), pose and detector parts of the quick-start
configs, exported once with a dynamic batch / height / width (/ frames) and run in ONNX Runtime
and OpenVINO at two input sizes, compared with the libraries' own PyTorch forwards.

Untrained quick-start models with a fixed seed: the comparisons need no trained weights (any
difference between the graph and PyTorch shows at initialisation too).
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmuniformer.apis import build_model_from_config
from mmuniformer.hardware import cpu_flags, cpu_has_bf16_units

from tests.conftest import REPO, load_module

pytest.importorskip('onnxruntime')
pytest.importorskip('openvino')

TOOL = load_module(osp.join(REPO, 'tools/deployment/pytorch2onnx.py'))
QS = osp.join(REPO, 'projects/quickstart/configs')
CLS_QS = osp.join(QS, 'uniformer_tiny_shapes.py')
VIDEO_QS = osp.join(QS, 'uniformer_tiny_motion.py')
SEG_QS = osp.join(QS, 'fpn_uniformer_tiny_shapes_ade.py')
POSE_QS = osp.join(QS, 'topdown_uniformer_tiny_stick_coco.py')
DET_QS = osp.join(QS, 'mask_rcnn_uniformer_tiny_shapes_coco.py')
LIGHT_CLS = osp.join(REPO, 'configs/cls/uniformer_xxs_in1k_160.py')
UPERNET = osp.join(REPO, 'configs/seg/upernet_uniformer_s_160k.py')
TINY_UPERNET = {  # a shallow UniFormer under the released UperNet head (pyramid pooling 1/2/3/6)
    'model.backbone.arch': dict(_delete_=True, depths=(1, 1, 1, 1),
                                embed_dims=(32, 64, 128, 256), head_dim=32),
    'model.backbone.init_cfg': None, 'model.decode_head.in_channels': [32, 64, 128, 256],
    'model.decode_head.channels': 32, 'model.auxiliary_head.in_channels': 128,
    'model.auxiliary_head.channels': 16}
TINY_LIGHT = dict(_delete_=True, depths=(1, 1, 2, 2), embed_dims=(32, 64, 128, 256), head_dim=32)
ATOL = 1e-4  # fp32, times max(1, max |output|)


def _build(config, options=None, seed=0):
    """The model with seeded weights: the configs' init, except mmpose's heatmap head, whose
    final layer starts at std 1e-3 (heatmaps ~1e-7): PyTorch's default layer init there."""
    torch.manual_seed(seed)
    model, cfg, scope = build_model_from_config(config, options)
    if scope != 'mmpose':
        model.init_weights()
    return model.eval(), scope


def _export(tmp_path, config, size, options=None, argmax=True):
    """Export the config's default part at batch 2 and ``size``; returns what the checks
    need."""
    model, scope = _build(config, options)
    part = TOOL.resolve_part('auto', scope)
    spec = TOOL.PART_SPECS[part]
    fn = TOOL.export_fn(part, scope, model)
    argmax = argmax and spec.class_axis == 1
    out = str(tmp_path / f'{part}.onnx')
    g = torch.Generator().manual_seed(1)
    names = TOOL.export_onnx(model, fn, torch.randn(2, 3, *size, generator=g), out,
                             names=spec.outputs, labels=spec.labels, argmax=argmax,
                             class_axis=spec.class_axis)
    return model, part, spec, fn, out, names, argmax


def _checks(model, spec, fn, out, argmax, sizes):
    """{(runtime, precision asked): [Check per input]} at batch 2 and 3 of the two sizes."""
    g = torch.Generator().manual_seed(2)
    inputs = [torch.randn(b, 3, *s, generator=g) for b, s in zip((2, 3), sizes)]
    heads = dict(argmax=argmax, class_axis=spec.class_axis)
    refs = [TOOL.torch_outputs(model, fn, x, **heads) for x in inputs]
    checks = {}
    for runtime, precision in (('onnxruntime', 'f32'), ('openvino', 'f32'),
                               ('openvino', 'default')):
        run, used = TOOL.make_runner(out, runtime, precision)
        checks[runtime, precision] = [
            TOOL.compare(run(x.numpy()), ref, runtime, used, tuple(x.shape), spec.class_axis,
                         argmax) for x, ref in zip(inputs, refs)]
    return checks, refs


def _assert_agreement(checks):
    """fp32 runs: within ATOL of the output scale, argmax agreement >= 99.9% (where the part
    has classes); OpenVINO's default precision within 5% of the scale."""
    for (runtime, precision), per_input in checks.items():
        for check in per_input:
            if precision == 'f32':
                assert check.precision == 'f32'
                assert check.passed(ATOL, 0.999), check.line()
                assert check.max_diff <= ATOL * max(1., check.scale)
            else:
                assert check.precision in ('f32', 'bf16', 'f16'), check.precision
                assert check.max_diff <= 0.05 * check.scale, check.line()
            assert check.scale > 1e-3  # not a trivially zero output


CASES = {
    # task: (config, exported size, second size, output shapes at the second size (batch 3))
    'cls': (CLS_QS, (64, 64), (96, 128), [(3, 8), (3, )]),
    'video': (VIDEO_QS, (8, 64, 64), (4, 96, 64), [(3, 8), (3, )]),
    'seg': (SEG_QS, (64, 96), (96, 160), [(3, 6, 96, 160), (3, 96, 160)]),
    'pose': (POSE_QS, (64, 32), (96, 64), [(3, 17, 24, 16)]),
    # stage 4 is 2x2 at 64x64 and 4x5 at 128x160: adaptive bins of unequal sizes
    'upernet': (UPERNET, (64, 64), (128, 160), [(3, 150, 128, 160), (3, 128, 160)]),
}
OPTIONS = {'upernet': TINY_UPERNET}


@pytest.mark.parametrize('task', list(CASES))
def test_whole_model_agrees_in_both_runtimes_at_two_sizes(tmp_path, task):
    config, size, size2, shapes = CASES[task]
    model, part, spec, fn, out, names, argmax = _export(tmp_path, config, size,
                                                       OPTIONS.get(task))
    assert part == {'cls': 'classifier', 'video': 'recognizer', 'seg': 'segmentor',
                    'pose': 'pose', 'upernet': 'segmentor'}[task]
    checks, refs = _checks(model, spec, fn, out, argmax, (size, size2))
    _assert_agreement(checks)
    assert [r.shape for r in refs[1]] == shapes
    if argmax:  # the exported labels / class map are the argmax of PyTorch's logits
        assert names[-1] == spec.labels
        assert np.array_equal(refs[1][-1], refs[1][0].argmax(1))
        assert all(c.exact >= 0.999 for per in checks.values() for c in per
                   if c.precision == 'f32')


def test_segmentor_graph_matches_mmseg_prediction(tmp_path):
    """The exported class map is mmseg's own ``predict`` (decode head, resize to the input,
    argmax) on an input of the second size, not the backbone's features."""
    model, part, spec, fn, out, names, argmax = _export(tmp_path, SEG_QS, (64, 64))
    from mmseg.structures import SegDataSample
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(3))
    meta = dict(img_shape=(96, 128), ori_shape=(96, 128), pad_shape=(96, 128))
    with torch.no_grad():
        pred = model.predict(x, [SegDataSample(metainfo=meta) for _ in range(2)])
    expected = np.stack([p.pred_sem_seg.data[0].numpy() for p in pred])
    run, _ = TOOL.make_runner(out, 'onnxruntime')
    class_map = run(x.numpy())[-1]
    assert class_map.shape == (2, 96, 128)
    assert (class_map == expected).mean() >= 0.999


def test_detector_exports_features_and_rpn_maps(tmp_path):
    options = {'model.backbone.init_cfg': None}
    model, part, spec, fn, out, names, argmax = _export(tmp_path, DET_QS, (96, 128), options)
    assert part == 'detector' and not argmax
    assert names == [f'{n}{i}' for n in ('feat', 'rpn_cls', 'rpn_reg') for i in range(5)]
    checks, refs = _checks(model, spec, fn, out, argmax, ((96, 128), (128, 160)))
    _assert_agreement(checks)
    n_anchors = model.rpn_head.num_base_priors
    assert refs[1][0].shape[-2:] == (32, 40)  # stride 4 at 128x160
    assert refs[1][5].shape == (3, n_anchors, 32, 40)  # objectness per anchor
    assert refs[1][10].shape == (3, 4 * n_anchors, 32, 40)  # box deltas per anchor


def test_light_model_exports_at_a_fixed_size(tmp_path):
    """Token selection keeps int(N * keep_ratio) tokens: height and width stay fixed, the
    batch dynamic; the graph agrees at that size."""
    options = {'model.backbone.arch': TINY_LIGHT, 'model.head.in_channels': 256,
               'model.head.num_classes': 10}
    model, part, spec, fn, out, names, argmax = _export(tmp_path, LIGHT_CLS, (64, 64), options)
    assert 'keep_ratio' in TOOL.fixed_size_reason(model)
    checks, _ = _checks(model, spec, fn, out, argmax, ((64, 64), (64, 64)))
    for check in checks['onnxruntime', 'f32']:
        assert check.passed(ATOL, 0.999), check.line()
    # OpenVINO 2026.4 (CPU, f32 hint) runs this graph (TopK / GatherElements /
    # ScatterElementsUpdate of the token selection) ~1% off PyTorch: labels still agree
    for check in checks['openvino', 'f32'] + checks['openvino', 'default']:
        assert check.agreement >= 0.999 and check.max_diff <= 0.05 * check.scale, check.line()
    run, _ = TOOL.make_runner(out, 'onnxruntime')
    with pytest.raises(Exception):  # another size is refused by the graph's fixed shape
        run(np.zeros((2, 3, 96, 96), np.float32))


def test_cli_verifies_both_runtimes_and_refuses_bad_options(tmp_path, capsys):
    out = str(tmp_path / 'seg.onnx')
    assert TOOL.main([SEG_QS, '--shape', '64', '--argmax', '--out', out, '--verify']) == 0
    printed = capsys.readouterr().out
    assert "outputs ['seg_logits', 'class_map']" in printed and 'verified' in printed
    lines = [l for l in printed.splitlines() if l.startswith('verify ')]
    assert len(lines) == 6  # 2 sizes x (onnxruntime, openvino f32, openvino default)
    assert sum('[ok]' in l for l in lines) == 4 and sum('[reported]' in l for l in lines) <= 2
    assert 'input (3, 3, 96, 128)' in printed  # the second size: + 32 rows, + 64 columns
    with pytest.raises(SystemExit, match='--scores / --argmax need class logits'):
        TOOL.main([POSE_QS, '--argmax', '--out', out])
    with pytest.raises(SystemExit, match='needs an mmsegmentation config'):
        TOOL.main([CLS_QS, '--part', 'segmentor', '--out', out])
    with pytest.raises(SystemExit, match='--verify-shape takes'):
        TOOL.main([CLS_QS, '--verify-shape', '0', '--out', out])


def test_benchmark_prints_a_row_per_runner_and_thread_count(tmp_path, capsys):
    """``--benchmark``: one markdown row per runner (eager, optimize fp32 / auto, ORT, OpenVINO
    f32 / default) and thread count (1 and 'all' = the thread count at start, here 2), with
    positive wall and CPU milliseconds; the thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert TOOL.main([CLS_QS, '--shape', '32', '--out', str(tmp_path / 'cls.onnx'),
                          '--benchmark', '1', '--threads', '1', 'all']) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    rows = [[c.strip() for c in line.strip('|').split('|')] for line in printed.splitlines()
            if line.startswith('| ') and not line.startswith('| runner')]
    auto = 'bf16' if cpu_has_bf16_units(cpu_flags()) else 'fp32'
    runners = [('pytorch eager', 'fp32'), ('optimize', 'fp32'), ('optimize auto', auto),
               ('onnxruntime', 'f32'), ('openvino', 'f32')]
    got = {(r[0], r[1], int(r[2])) for r in rows}
    assert len(rows) == 12 and len(got) >= 11  # OpenVINO's default may be f32 too
    assert {(n, p, t) for n, p in runners for t in (1, 2)} <= got
    assert sum(r[0] == 'openvino' for r in rows) == 4
    assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in rows)
    assert TOOL.thread_counts(['1', 'all', '1'], 4) == [1, 4]
    assert TOOL.thread_counts(['all'], 1) == [1]
    with pytest.raises(ValueError, match="--threads takes '1' and / or 'all', got '3'"):
        TOOL.thread_counts(['3'], 4)


def test_output_names():
    assert TOOL.output_names(('logits', ), 1, scores=True) == ['scores']
    assert TOOL.output_names(('feat', 'a', 'b'), 6) == ['feat0', 'feat1', 'a0', 'a1', 'b0', 'b1']
    assert TOOL.output_names(('feat', 'a', 'b'), 4) == ['feat0', 'feat1', 'feat2', 'feat3']
