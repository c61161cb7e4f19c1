"""Whole-model deployment (tools/deployment/pytorch2onnx.py): the classifier, recogniser,
segmentor (decode head and resize included), pose and whole detector (NMS and RoIAlign in
the graph) of the quick-start configs, exported once with a dynamic batch / height / width (/ frames) and run in ONNX Runtime
and OpenVINO at two input sizes, compared with the libraries' own PyTorch forwards.

Untrained quick-start models with a fixed seed: the comparisons need no trained weights (any
difference between the graph and PyTorch shows at initialisation too).
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmuniformer.apis import build_model_from_config
from mmuniformer.deployment import (DetectorGraph, check_detector, compare_detections,
                                   mmdet_predictions, paste_masks)
from mmuniformer.hardware import cpu_flags, cpu_has_bf16_units
from mmuniformer.models.backbones.uniformer_light import rank_order

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS, spread_detector_heads

pytest.importorskip('onnxruntime')
pytest.importorskip('openvino')

TOOL = load_module(osp.join(REPO, 'tools/deployment/pytorch2onnx.py'))
CLS_QS, VIDEO_QS, SEG_QS, POSE_QS, DET_QS = (QS_CONFIGS[task] for task in
                                             ('cls', 'video', 'seg', 'pose', 'det'))
LIGHT_CLS = osp.join(REPO, 'configs/cls/uniformer_xxs_in1k_160.py')
LIGHT_VIDEO = osp.join(REPO, 'configs/video/uniformer_xxs_16x4_k400_160.py')
UPERNET = osp.join(REPO, 'configs/seg/upernet_uniformer_s_160k.py')
TINY_UPERNET = {  # a shallow UniFormer under the released UperNet head (pyramid pooling 1/2/3/6)
    'model.backbone.arch': dict(_delete_=True, depths=(1, 1, 1, 1),
                                embed_dims=(32, 64, 128, 256), head_dim=32),
    'model.backbone.init_cfg': None, 'model.decode_head.in_channels': [32, 64, 128, 256],
    'model.decode_head.channels': 32, 'model.auxiliary_head.in_channels': 128,
    'model.auxiliary_head.channels': 16}
TINY_LIGHT = dict(_delete_=True, depths=(1, 1, 2, 2), embed_dims=(32, 64, 128, 256), head_dim=32)
ATOL = 1e-4  # fp32, times max(1, max |output|)


class RankOrder(torch.nn.Module):
    """The light models' token ranking as a module, for export."""

    def forward(self, scores):
        return rank_order(scores)


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


CASCADE = osp.join(REPO, 'configs/det/cascade_mask_rcnn_uniformer_s_h14_3x_ms.py')
SHALLOW_S = {'model.backbone.arch': dict(_delete_=True, depths=(1, 1, 1, 1),
                                         embed_dims=(64, 128, 320, 512), head_dim=64),
             'model.backbone.init_cfg': None,  # fewer proposals and detections: seconds
             'model.test_cfg.rpn.nms_pre': 300, 'model.test_cfg.rpn.max_per_img': 300,
             'model.test_cfg.rcnn.max_per_img': 20}


def _assert_same_detections(out, refs):
    """Graph outputs equal mmdet's predictions exactly, image by image (masks pasted)."""
    for b, ref in enumerate(refs):
        dets, labels = out[0][b], out[1][b]
        n = len(ref.scores)
        assert n > 0 and bool((dets[n:, 4] == 0).all())  # the rest is padding
        assert torch.equal(dets[:n, 4], ref.scores) and torch.equal(labels[:n], ref.labels)
        assert torch.equal(dets[:n, :4], ref.bboxes)
        if len(out) > 2:
            masks = paste_masks(out[2][b][:n], dets[:n, :4], *ref.masks.shape[-2:])
            assert torch.equal(masks, ref.masks)
        else:
            assert 'masks' not in ref


FASTER = {'model.backbone.init_cfg': None, 'model.roi_head.mask_head': None,
          'model.roi_head.mask_roi_extractor': None}
DETECTORS = {'mask_rcnn': (DET_QS, {'model.backbone.init_cfg': None}),
             'faster_rcnn': (DET_QS, FASTER), 'cascade': (CASCADE, SHALLOW_S)}


@pytest.mark.parametrize('detector', list(DETECTORS))
def test_detector_graph_equals_mmdet_predict(detector):
    """In PyTorch, the traceable detector (anchors, top-k, batched NMS, RoIAlign on every
    level, class-wise NMS as one batch) gives mmdet's own ``predict`` to the bit, for a batch
    of whole images and for one of padded images (boxes clipped to each image's size)."""
    model, _ = _build(*DETECTORS[detector])
    spread_detector_heads(model)
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(3))
    for sizes in (None, [(96, 128), (70, 101)]):
        with torch.no_grad():
            out = DetectorGraph(model)(x, None if sizes is None else torch.tensor(sizes))
        refs = mmdet_predictions(model, x, sizes)
        per = model.roi_head.test_cfg.max_per_img
        shapes = [(2, per, 5), (2, per)] + ([(2, per, 28, 28)] if len(out) > 2 else [])
        assert [tuple(o.shape) for o in out] == shapes and len(out) == 2 + (
            detector != 'faster_rcnn')
        _assert_same_detections(out, refs)
        if sizes:  # the second image's boxes end inside its 101 x 70 pixels
            assert out[0][1, :, 2].max() <= 101 and out[0][1, :, 3].max() <= 70


def test_detector_exports_whole_mask_rcnn(tmp_path):
    """Mask R-CNN as one graph (dynamic batch, height, width): in ONNX Runtime and OpenVINO
    (f32) every mmdet detection is matched (label, IoU >= 0.9), boxes and scores within ATOL,
    pasted masks agree on >= 99.9% of pixels, at two sizes, the second batch padded (each
    image's own size in ``image_sizes``)."""
    model, scope = _build(DET_QS, {'model.backbone.init_cfg': None})
    part = TOOL.resolve_part('auto', scope)
    out = str(tmp_path / 'det.onnx')
    names = TOOL.export_onnx(spread_detector_heads(model), TOOL.export_fn(part, scope, model),
                             torch.zeros(2, 3, 96, 128), out, names=TOOL.PART_SPECS[part].outputs,
                             image_sizes=True)
    assert part == 'detector' and names == ['dets', 'labels', 'masks']
    g = torch.Generator().manual_seed(2)
    inputs = [torch.randn(2, 3, 96, 128, generator=g), torch.randn(3, 3, 128, 192, generator=g)]
    sizes = [None, np.array([(128, 192), (100, 150), (64, 190)])]
    refs = [mmdet_predictions(model, x, s) for x, s in zip(inputs, sizes)]
    for runtime, precision in (('onnxruntime', 'f32'), ('openvino', 'f32'),
                               ('openvino', 'default')):
        run, used = TOOL.make_runner(out, runtime, precision)
        for x, s, ref in zip(inputs, sizes, refs):
            outputs = run(x.numpy(), s)
            assert [o.shape for o in outputs] == [(len(x), 20, 5), (len(x), 20),
                                                  (len(x), 20, 28, 28)]
            found = compare_detections(outputs, ref)
            assert found['scale'] > 50  # boxes in input pixels
            if precision == 'f32':
                assert found['agreement'] >= 0.999 and found['masks'] >= 0.999, found
                assert found['max_diff'] <= ATOL * found['scale'], found
            else:  # OpenVINO's default (bf16 where the CPU has bf16 units): reported only
                assert used in ('f32', 'bf16', 'f16')  # (these heads' unit-gain weights
                # move boxes by more than the IoU bound in bf16)


def test_detector_part_refuses_one_stage_models():
    model, _ = _build(DET_QS, {'model.backbone.init_cfg': None})
    model.rpn_head = None
    with pytest.raises(ValueError, match='RPNHead and a StandardRoIHead or CascadeRoIHead'):
        check_detector(model)


LIGHT_CASES = {  # the released XXS configs on a shallow light backbone, 10 classes
    'cls': (LIGHT_CLS, (64, 64), (96, 128), {'model.head.in_channels': 256,
                                             'model.head.num_classes': 10}),
    'video': (LIGHT_VIDEO, (8, 64, 64), (4, 96, 64), {'model.backbone.init_cfg': None,
                                                      'model.cls_head.in_channels': 256,
                                                      'model.cls_head.num_classes': 10}),
}


@pytest.mark.parametrize('task', list(LIGHT_CASES))
def test_light_model_exports_size_dynamic_and_agrees_on_tied_scores(tmp_path, task):
    """Token selection (keep_ratio 0.5) exports with a dynamic height / width (/ frames): the
    graph keeps int(N / 2) of the N tokens at each size. Untrained, the score token is zero,
    so every token gets the same score: the kept tokens are decided by the tie order (by
    position), which ONNX Runtime and OpenVINO f32 must reproduce within ATOL at both sizes
    (a TopK whose ties OpenVINO orders its own way kept other tokens there: 4e-3 off)."""
    config, size, size2, options = LIGHT_CASES[task]
    options = {'model.backbone.arch': TINY_LIGHT, **options}
    model, part, spec, fn, out, names, argmax = _export(tmp_path, config, size, options)
    seen = []
    hook = model.backbone.blocks3[1].register_forward_pre_hook(
        lambda mod, args: seen.append((args[0].shape[2:], args[2])))
    checks, refs = _checks(model, spec, fn, out, argmax, (size, size2))
    hook.remove()
    # the scores reaching the first shrinking block: all tied, 16 and 48 tokens (more than
    # 16: there PyTorch's unstable sort would order ties its own way)
    assert [tuple(grid) for grid, _ in seen] == \
        {'cls': [(4, 4), (6, 8)], 'video': [(4, 4, 4), (2, 6, 4)]}[task]
    for _, scores in seen:
        assert torch.equal(scores, scores[:, :1].expand_as(scores))
    _assert_agreement(checks)
    assert refs[1][0].shape == (3, 10)


def test_rank_order_graph_breaks_ties_by_position_in_both_runtimes(tmp_path):
    """The exported ranking (one graph, any N) is PyTorch's stable descending sort on scores
    with ties, in ONNX Runtime and OpenVINO."""
    out = str(tmp_path / 'rank.onnx')
    torch.onnx.export(RankOrder(), (torch.rand(2, 16), ), out, input_names=['input'],
                      dynamic_axes={'input': {0: 'batch', 1: 'n'}}, opset_version=17,
                      dynamo=False)
    g = torch.Generator().manual_seed(0)
    inputs = [torch.full((2, 16), 1 / 17),  # all tied
              torch.randint(0, 4, (3, 48), generator=g).float() / 7,  # groups of ties
              torch.rand(2, 100, generator=g)]  # none
    for runtime in ('onnxruntime', 'openvino'):
        run, _ = TOOL.make_runner(out, runtime)
        for x in inputs:
            expected = torch.sort(x, dim=1, descending=True, stable=True).indices
            assert np.array_equal(run(x.numpy())[0], expected.numpy()), (runtime, x.shape)


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


def test_cli_detector_verifies_and_says_when_nothing_was_compared(tmp_path, capsys):
    """The untrained quick-start detector's detections are matched one by one; with a score
    threshold no untrained detection reaches, ``--verify`` exits 1 instead of 'verified'."""
    out = str(tmp_path / 'det.onnx')
    args = [DET_QS, '--out', out, '--verify', '--runtimes', 'onnxruntime']
    assert TOOL.main(args) == 0
    printed = capsys.readouterr().out
    assert "outputs ['dets', 'labels', 'masks']" in printed and '\nverified' in printed
    lines = [l for l in printed.splitlines() if l.startswith('verify ')]
    assert len(lines) == 2 and all('detections matched 100.000%' in l for l in lines), lines
    assert TOOL.main(args + ['--cfg-options', 'model.test_cfg.rcnn.score_thr=0.999']) == 1
    assert 'not verified: PyTorch finds no detection scored above 0.999' in \
        capsys.readouterr().out


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
    assert TOOL.output_names(('dets', 'labels', 'masks'), 2) == ['dets', 'labels']
    assert TOOL.output_names(('feat', 'a', 'b'), 6) == ['feat0', 'feat1', 'a0', 'a1', 'b0', 'b1']
    assert TOOL.output_names(('feat', 'a', 'b'), 4) == ['feat0', 'feat1', 'feat2', 'feat3']
