"""demo/demo.py --backend onnxruntime|openvino --onnx FILE (mmuniformer.deployment.runtime):
the quick-start models of cls, video, seg and pose, exported with
tools/deployment/pytorch2onnx.py from untrained (seed 0) checkpoints, run in both runtimes on
scikit-image's photos give the PyTorch demo's predictions and pictures. The det swap's
post-processing (det_instances) is checked against mmdet's own bbox and mask heads on hand-made
detections, the whole det path (check, swap, inferencer, drawing) with a stand-in graph of
the det contract (dets / labels / masks), and the exported Mask R-CNN graph against the PyTorch
demo on a photo.

Set ``MMUNIFORMER_KEEP_PICTURES=DIR`` to keep the pictures for looking at them.
"""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS, spread_detector_heads, write_photos

pytest.importorskip('onnxruntime')
pytest.importorskip('openvino')
pytest.importorskip('skimage.data')

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
TOOL = load_module(osp.join(REPO, 'tools/deployment/pytorch2onnx.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CONFIGS = QS_CONFIGS
#: the exported size of each task (dynamic height / width / frames: the photos differ)
SHAPES = {'cls': ['64'], 'video': ['8', '64', '64'], 'seg': ['64'], 'pose': ['128', '96']}
BACKENDS = (('onnxruntime', []), ('openvino', ['--precision', 'f32']))
DET_OPTIONS = ['--cfg-options', 'model.backbone.init_cfg=None']


def _keep(path, name) -> None:
    """Copy a picture to $MMUNIFORMER_KEEP_PICTURES as ``name`` (for looking at it), if set."""
    folder = os.environ.get('MMUNIFORMER_KEEP_PICTURES')
    if folder:
        os.makedirs(folder, exist_ok=True)
        shutil.copy(str(path), osp.join(folder, name))


def _pose_checkpoint(config, out):
    """mmpose's head starts at std 1e-3 (heatmaps ~1e-7, nearly flat: most peaks fall on one
    spot); Kaiming-normal deconvolutions and a std-0.1 final layer give each keypoint its own
    peak (17 distinct keypoints on the astronaut), a comparison that can fail."""
    from mmuniformer.apis import build_model_from_config
    torch.manual_seed(0)
    model, _, _ = build_model_from_config(config)
    model.init_weights()
    for module in model.head.modules():
        if isinstance(module, nn.ConvTranspose2d):
            nn.init.kaiming_normal_(module.weight)
    nn.init.normal_(model.head.final_layer.weight, std=0.1)
    nn.init.zeros_(model.head.final_layer.bias)
    torch.save(dict(meta=dict(untrained=True), state_dict=model.state_dict()), out)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Per task: an untrained checkpoint and its whole-model ONNX file; the photos as BGR
    PNG files and a 12-frame clip of the astronaut photo."""
    from mmengine.registry import DefaultScope
    root = tmp_path_factory.mktemp('backend')
    scopes = dict(DefaultScope._instance_dict)
    ckpts, onnx = {}, {}
    for task, shape in SHAPES.items():
        ckpts[task], onnx[task] = str(root / f'{task}.pth'), str(root / f'{task}.onnx')
        if task == 'pose':
            _pose_checkpoint(CONFIGS[task], ckpts[task])
        else:
            UNTRAINED.main([CONFIGS[task], ckpts[task]])
        assert TOOL.main([CONFIGS[task], '--checkpoint', ckpts[task], '--shape', *shape,
                          '--out', onnx[task]]) == 0
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    photos = write_photos(root)
    photo = cv2.resize(cv2.imread(photos['astronaut']), (128, 128), interpolation=cv2.INTER_AREA)
    photos['clip'] = str(root / 'clip.mp4')
    writer = cv2.VideoWriter(photos['clip'], cv2.VideoWriter_fourcc(*'mp4v'), 8, (64, 64))
    for t in range(12):
        writer.write(np.ascontiguousarray(photo[10 + 3 * t:74 + 3 * t, 20 + 2 * t:84 + 2 * t]))
    writer.release()
    return root, ckpts, onnx, photos


def _run_all(task, files, tmp_path, photo, suffix='png', extra=()):
    """The demo with PyTorch, ONNX Runtime and OpenVINO f32: {backend: (summary, picture)}."""
    root, ckpts, onnx, photos = files
    results = {}
    for backend, options in (('pytorch', []), *BACKENDS):
        out = tmp_path / f'{task}_{backend}.{suffix}'
        args = [CONFIGS[task], ckpts[task], photos[photo], '--out', str(out), *extra]
        if backend != 'pytorch':
            args += ['--backend', backend, '--onnx', onnx[task], *options]
        results[backend] = DEMO.run(args), out
        _keep(out, f'{task}_{photo}_{backend}.{suffix}')
    return results


def _differing(a, b) -> int:
    """Pixels that differ between two pictures of the same size."""
    a, b = cv2.imread(str(a)), cv2.imread(str(b))
    assert a.shape == b.shape
    return int((a != b).any(axis=2).sum())


def test_cls_demo_in_both_runtimes_matches_pytorch(files, tmp_path):
    results = _run_all('cls', files, tmp_path, 'chelsea')
    ref, ref_out = results['pytorch']
    assert len(ref['topk']) == 5 and max(ref['scores']) - min(ref['scores']) > 1e-3
    for backend, _ in BACKENDS:
        summary, out = results[backend]
        assert summary['topk'] == ref['topk'] and summary['labels'] == ref['labels']
        np.testing.assert_allclose(summary['scores'], ref['scores'], atol=1e-4)
        assert _differing(out, ref_out) == 0, backend  # same labels, same 3-decimal scores


def test_video_demo_in_both_runtimes_matches_pytorch(files, tmp_path):
    from PIL import Image
    results = _run_all('video', files, tmp_path, 'clip', suffix='gif')
    ref, ref_out = results['pytorch']
    assert ref['frames'] == 12
    for backend, _ in BACKENDS:
        summary, out = results[backend]
        assert summary['topk'] == ref['topk']
        np.testing.assert_allclose(summary['scores'], ref['scores'], atol=1e-4)
        ours, theirs = Image.open(out), Image.open(ref_out)
        assert ours.n_frames == theirs.n_frames == 12
        for i in range(12):
            ours.seek(i)
            theirs.seek(i)
            assert np.array_equal(np.asarray(ours.convert('RGB')),
                                  np.asarray(theirs.convert('RGB'))), (backend, i)


def test_seg_demo_in_both_runtimes_matches_pytorch(files, tmp_path):
    results = _run_all('seg', files, tmp_path, 'coffee')
    ref, ref_out = results['pytorch']
    assert ref['pred_shape'] == (400, 600) and len(ref['labels']) >= 2
    for backend, _ in BACKENDS:
        summary, out = results[backend]
        changed = summary['pred'] != ref['pred']
        assert changed.mean() <= 1e-3, (backend, changed.mean())
        # the picture differs only where the class map does (and the class names drawn over
        # the regions, which move with them): at most 20x the changed pixels
        assert _differing(out, ref_out) <= 20 * changed.sum(), backend


def test_seg_sliding_window_runs_the_graph_per_window(files, tmp_path):
    """mmseg's slide inference calls encode_decode per 64x64 window (stride 48): the runtime
    graph there gives PyTorch's class map."""
    slide = ['--cfg-options', 'model.test_cfg.mode=slide', 'model.test_cfg.crop_size=(64,64)',
             'model.test_cfg.stride=(48,48)']
    results = _run_all('seg', files, tmp_path, 'chelsea', extra=slide)
    ref = results['pytorch'][0]['pred']
    whole = DEMO.run([CONFIGS['seg'], files[1]['seg'], files[3]['chelsea'], '--out',
                      str(tmp_path / 'whole.png')])['pred']
    assert (whole != ref).mean() > 0.01  # the windows change the class map
    for backend, _ in BACKENDS:
        assert (results[backend][0]['pred'] == ref).mean() >= 0.999, backend


def test_light_classifier_graph_of_another_size(files, tmp_path):
    """The light model (token selection) exported at 32x32 runs the demo's 128x128 in both
    runtimes with PyTorch's top 5, from its initial weights, whose token scores tie exactly
    (the kept tokens are then the earliest, in PyTorch and in the graph)."""
    root, ckpts, onnx, photos = files
    config = osp.join(REPO, 'projects/quickstart/configs/uniformer_light_tiny_shapes.py')
    ckpt, graph = str(tmp_path / 'light.pth'), str(tmp_path / 'light.onnx')
    UNTRAINED.main([config, ckpt])
    TOOL.main([config, '--checkpoint', ckpt, '--shape', '32', '--out', graph])
    args = [config, ckpt, photos['coffee'], '--out', str(tmp_path / 'light.png')]
    ref = DEMO.run(args)
    for backend, options in BACKENDS:
        ours = DEMO.run(args + ['--backend', backend, '--onnx', graph, *options])
        assert ours['topk'] == ref['topk'], backend
        np.testing.assert_allclose(ours['scores'], ref['scores'], atol=1e-4)


class _FixedLogits(nn.Module):
    def forward(self, x):
        return x.mean((2, 3)).repeat(1, 3)[:, :8]


def test_graph_of_a_fixed_size_refuses_another_size(files, tmp_path):
    """A graph exported elsewhere without dynamic axes (input 1x3x32x32) is refused by name
    at the demo's 64x64, with both sizes."""
    root, ckpts, onnx, photos = files
    graph = str(tmp_path / 'fixed32.onnx')
    torch.onnx.export(_FixedLogits(), (torch.zeros(1, 3, 32, 32), ), graph,
                      input_names=['input'], output_names=['logits'], opset_version=17,
                      dynamo=False)
    args = [CONFIGS['cls'], ckpts['cls'], photos['coffee'], '--out', str(tmp_path / 'x.png'),
            '--backend', 'onnxruntime', '--onnx', graph]
    with pytest.raises(SystemExit, match=r'fixed32\.onnx.* takes inputs of \(1, 3, 32, '
                       r'32\), got \(1, 3, \d+, \d+\): it was exported at a fixed size'):
        DEMO.run(args)


def test_pose_demo_in_both_runtimes_matches_pytorch(files, tmp_path):
    box = ['150', '40', '330', '300']
    results = _run_all('pose', files, tmp_path, 'astronaut',
                       extra=['--bbox', *box, '--kpt-thr', '0'])  # untrained: low scores
    ref, ref_out = results['pytorch']
    # peaked heatmaps: keypoints all over the box, not on one spot
    assert len(np.unique(np.round(ref['keypoints'][0]), axis=0)) >= 12
    for backend, _ in BACKENDS:
        summary, out = results[backend]
        assert summary['num_instances'] == 1
        np.testing.assert_allclose(summary['keypoints'][0], ref['keypoints'][0], atol=0.5)
        assert _differing(out, ref_out) <= 50, backend  # sub-pixel moves of a few edges


def test_runtime_swaps_only_the_network(files):
    """Through the API: the runtime's model gives the PyTorch model's test_step results
    (cls scores; seg logits of a batch of two sizes padded by mmseg's preprocessor)."""
    from mmuniformer.apis import build_inferencer
    from mmuniformer.deployment import RuntimeGraph
    root, ckpts, onnx, photos = files
    torch_inf = build_inferencer(CONFIGS['cls'], ckpts['cls'])
    ov_inf = build_inferencer(CONFIGS['cls'], None, onnx=onnx['cls'], runtime='openvino',
                              precision='default')
    assert isinstance(ov_inf.model.runtime_graph, RuntimeGraph)
    assert ov_inf.model.runtime_graph.precision in ('bf16', 'f16', 'f32')
    ref = torch_inf(photos['coffee'])[0]['pred_scores']
    ours = ov_inf(photos['coffee'])[0]['pred_scores']
    assert np.abs(ours - ref).max() < 0.02  # OpenVINO's own precision (bf16 here): close
    assert abs(ours.sum() - 1) < 1e-5  # the head's softmax ran on the runtime's logits


def test_demo_refuses_mismatched_files_and_options(files, tmp_path):
    root, ckpts, onnx, photos = files
    out = str(tmp_path / 'x.png')
    cls = [CONFIGS['cls'], ckpts['cls'], photos['chelsea'], '--out', out]
    ort = ['--backend', 'onnxruntime', '--onnx']
    with pytest.raises(SystemExit, match=r"seg\.onnx.*seg_logits.*segmentor \(mmseg\).*"
                       r"classifier \(mmpretrain\) needs logits"):
        DEMO.run(cls + ort + [onnx['seg']])
    with pytest.raises(SystemExit, match=r"video\.onnx.*input.*\(batch, 3, frames, height, "
                       r"width\).*recognizer \(mmaction2\)"):
        DEMO.run(cls + ort + [onnx['video']])
    with pytest.raises(SystemExit, match='does not exist'):
        DEMO.run(cls + ort + [str(tmp_path / 'missing.onnx')])
    scores, backbone = str(tmp_path / 'scores.onnx'), str(tmp_path / 'backbone.onnx')
    TOOL.main([CONFIGS['cls'], '--shape', '32', '--scores', '--out', scores])
    TOOL.main([CONFIGS['cls'], '--shape', '32', '--part', 'backbone', '--out', backbone])
    with pytest.raises(SystemExit, match=r'scores \(batch, 8\).*exported with --scores'):
        DEMO.run(cls + ort + [scores])
    with pytest.raises(SystemExit,
                       match=r'outputs output \(batch, \?, \?, \?\): a backbone \(--part backbone'):
        DEMO.run(cls + ort + [backbone])
    eight = str(tmp_path / 'eight.onnx')  # a graph of 5 classes for the 8-class config
    TOOL.main([CONFIGS['cls'], '--shape', '32', '--out', eight,
               '--cfg-options', 'model.head.num_classes=5'])
    with pytest.raises(SystemExit, match="'logits' has 5 classes, the config's model 8"):
        DEMO.run(cls + ort + [eight])
    with pytest.raises(SystemExit, match='--optimize is for --backend pytorch'):
        DEMO.run(cls + ort + [onnx['cls'], '--optimize'])
    with pytest.raises(SystemExit, match='--onnx .* needs --backend onnxruntime or openvino'):
        DEMO.run(cls + ['--onnx', onnx['cls']])
    with pytest.raises(SystemExit, match='--backend openvino runs an exported model: give '
                       '--onnx'):
        DEMO.run(cls + ['--backend', 'openvino'])
    with pytest.raises(SystemExit, match="--precision default is OpenVINO's"):
        DEMO.run(cls + ort + [onnx['cls'], '--precision', 'default'])
    with pytest.raises(SystemExit, match='CHECKPOINT is missing'):
        DEMO.run([CONFIGS['cls'], photos['chelsea'], '--out', out])
    # without a checkpoint in backend mode: the config's names (its data folder's, where the
    # quick start made it, else class i); a file exported with --argmax (an extra labels
    # output) gives the same
    ref = DEMO.run(cls)
    argmax = str(tmp_path / 'argmax.onnx')
    TOOL.main([CONFIGS['cls'], '--checkpoint', ckpts['cls'], '--shape', '32', '--argmax',
               '--out', argmax])
    summary = DEMO.run([CONFIGS['cls'], photos['chelsea'], '--out', out, *ort, argmax])
    assert summary['labels'] == ref['labels'] and summary['topk'] == ref['topk']
    np.testing.assert_allclose(summary['scores'], ref['scores'], atol=1e-4)


def test_export_outputs_are_the_exporters():
    """The outputs the swaps read are the exporter's whole-model outputs (one table)."""
    from mmuniformer.libraries import LIBRARIES
    for lib in LIBRARIES:
        assert TOOL.PART_SPECS[lib.export_part].outputs == lib.export_outputs, lib.task


# ---- det: post-processing against mmdet's own heads, and the swap with a stand-in graph


def _mmdet_heads(num_classes):
    from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
    from mmdet.models.roi_heads.mask_heads import FCNMaskHead
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    register_all_modules()
    bbox_head = Shared2FCBBoxHead(in_channels=4, fc_out_channels=8, roi_feat_size=1,
                                  num_classes=num_classes)
    mask_head = FCNMaskHead(num_convs=0, in_channels=4, num_classes=num_classes)
    cfg = ConfigDict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100,
                     mask_thr_binary=0.5)
    return bbox_head, mask_head, cfg


def test_det_instances_match_mmdets_heads():
    """Hand-made detections through mmdet's StandardRoIHead path (bbox head without rescale,
    boxes clipped to img_shape; mask head with rescale: boxes / scale_factor, masks pasted on
    ori_shape) and through det_instances from the det graph's outputs (unclipped boxes,
    own-class mask probabilities, padding rows): the same boxes, scores, labels and masks."""
    from mmengine.structures import InstanceData

    from mmuniformer.deployment import det_instances
    num_classes = 6
    bbox_head, mask_head, cfg = _mmdet_heads(num_classes)
    # ori 200x150 resized by (w 0.64, h 0.6) to img_shape 120x96, padded to 128x96
    meta = dict(ori_shape=(200, 150), img_shape=(120, 96), scale_factor=(0.64, 0.6),
                pad_shape=(128, 96), batch_input_shape=(128, 96))
    boxes = torch.tensor([[10., 12., 50., 60.], [-8., 30., 40., 90.], [60., 70., 110., 140.],
                          [5., 5., 20., 15.], [30.5, 40.25, 70.75, 99.5]])
    labels = torch.tensor([3, 0, 5, 2, 1])  # one class per box: mmdet's per-class NMS keeps all
    n = len(boxes)
    logits = torch.zeros(n, num_classes + 1)  # softmax: the box's class at 0.6 .. 0.9
    logits[torch.arange(n), labels] = torch.log(torch.tensor([9., 5., 3., 7., 4.]) * num_classes)
    rois = torch.cat([torch.zeros(n, 1), boxes], 1)
    with torch.no_grad():
        ref = bbox_head.predict_by_feat((rois, ), (logits, ), (torch.zeros(n, 4 * num_classes), ),
                                        [meta], cfg, rescale=False)[0]
        order = [int((labels == label).nonzero()) for label in ref.labels]
        assert len(order) == n and ref.scores.min() > 0.5
        mask_logits = torch.randn(n, num_classes, 28, 28, generator=torch.Generator()
                                  .manual_seed(0)) * 3
        ref = mask_head.predict_by_feat((mask_logits, ), [ref.clone()], [meta], cfg,
                                        rescale=True)[0]
    # the graph's rows: sorted by score, unclipped boxes, own-class probabilities, 3 padding
    dets = torch.zeros(n + 3, 5)
    dets[:n, :4], dets[:n, 4] = boxes[order], ref.scores
    graph_labels = torch.zeros(n + 3, dtype=torch.int64)
    graph_labels[:n] = ref.labels
    masks = torch.zeros(n + 3, 28, 28)
    masks[:n] = mask_logits[torch.arange(n), ref.labels].sigmoid()
    ours = det_instances(dets, graph_labels, masks, meta, cfg.mask_thr_binary)
    assert isinstance(ours, InstanceData) and len(ours) == n
    # clipped to img_shape (x1 -8 -> 0, y2 140 -> 120), then / scale_factor (120 -> 200)
    assert ours.bboxes[:, 0].min() == 0 and ours.bboxes[:, 3].max() == pytest.approx(200)
    torch.testing.assert_close(ours.bboxes, ref.bboxes, rtol=0, atol=1e-4)
    assert torch.equal(ours.labels, ref.labels) and torch.equal(ours.scores, ref.scores)
    assert ours.masks.shape == (n, 200, 150) and ours.masks.dtype == torch.bool
    assert torch.equal(ours.masks, ref.masks) and ours.masks.sum() > 100


class _ContractGraph(nn.Module):
    """A stand-in detector graph of the det contract: three fixed detections in input pixels
    (one past the right edge), 2 padding rows, masks filling each box's left half."""

    def forward(self, x):
        b, _, h, w = x.shape
        scale = torch.stack([w, h, w, h]).to(x.dtype)  # the boxes follow the input size
        boxes = torch.tensor([[0.1, 0.1, 0.5, 0.6], [0.55, 0.2, 1.2, 0.9],
                              [0.05, 0.7, 0.3, 0.95], [0, 0, 0, 0], [0, 0, 0, 0]]) * scale
        scores = torch.tensor([0.9, 0.8, 0.6, 0., 0.]).to(x.dtype) + 0 * x.mean()
        dets = torch.cat([boxes, scores[:, None]], 1)[None].expand(b, 5, 5)
        labels = torch.tensor([1, 3, 0, 0, 0])[None].expand(b, 5)
        half = (torch.arange(28) < 14).to(x.dtype).expand(28, 28)
        masks = (half * scores[:, None, None])[None].expand(b, 5, 28, 28)
        return dets, labels, masks


def test_det_demo_runs_a_graph_of_the_contract(tmp_path):
    """check_onnx, the predict swap, mmdet's inferencer and drawing with a stand-in graph:
    three boxes rescaled to the photo, the second clipped to its width, left-half masks."""
    photo = write_photos(tmp_path, ['coffee'])['coffee']  # 400x600
    graph = str(tmp_path / 'det.onnx')
    torch.onnx.export(_ContractGraph(), (torch.zeros(1, 3, 64, 96), ), graph,
                      input_names=['input'], output_names=['dets', 'labels', 'masks'],
                      dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}},
                      opset_version=17, dynamo=False)
    out = tmp_path / 'det.png'
    summary = DEMO.run([CONFIGS['det'], photo, '--out', str(out), '--backend', 'onnxruntime',
                        '--onnx', graph, '--score-thr', '0.5', *DET_OPTIONS])
    _keep(out, 'det_coffee_contract_onnxruntime.png')
    assert summary['num_instances'] == 3 and summary['labels'] == [1, 3, 0]
    np.testing.assert_allclose(summary['scores'], [0.9, 0.8, 0.6], atol=1e-6)
    # the photo's 400x600 resized to the config's scale and padded to 32: the boxes are
    # fractions of the padded input; after rescale within 1 px of those of the photo
    # (up to the padding), the second box clipped at the image width
    bboxes = summary['bboxes']
    assert bboxes[1, 2] == pytest.approx(600, abs=1e-3)
    assert summary['masks_shape'] == (3, 400, 600)
    masks = summary['masks']
    for (x1, y1, x2, y2), mask in zip(bboxes, masks):
        # one 28x28 cell from the edges and the middle (bilinear pasting blurs them)
        mx, my = int(np.ceil((x2 - x1) / 28)) + 1, int(np.ceil((y2 - y1) / 28)) + 1
        middle = int((x1 + x2) / 2)
        rows = slice(int(y1) + my, int(y2) - my)
        assert mask[rows, int(x1) + mx:middle - mx].all()
        assert not mask[rows, middle + mx:].any() and not mask[:int(y1) - 1].any()
    assert cv2.imread(str(out)).shape == (400, 600, 3)


def test_det_demo_with_the_exported_mask_rcnn_matches_pytorch(tmp_path):
    """The quick-start Mask R-CNN (heads at unit gain: distinct scores), exported whole with
    NMS and RoIAlign in the graph, drawn by the demo on a photo in both runtimes: the PyTorch
    demo's detections (labels, scores, boxes in photo pixels, pasted masks) and picture."""
    from mmuniformer.apis import build_model_from_config
    torch.manual_seed(0)
    model, _, _ = build_model_from_config(CONFIGS['det'], {'model.backbone.init_cfg': None})
    model.init_weights()
    ckpt, graph = str(tmp_path / 'det.pth'), str(tmp_path / 'det.onnx')
    torch.save(dict(state_dict=spread_detector_heads(model).state_dict()), ckpt)
    assert TOOL.main([CONFIGS['det'], '--checkpoint', ckpt, '--out', graph]) == 0
    photo = write_photos(tmp_path, ['coffee'])['coffee']  # 400x600: resized, padded to 32
    results = {}
    for backend, options in (('pytorch', []), *BACKENDS):
        out = tmp_path / f'det_{backend}.png'
        args = [CONFIGS['det'], ckpt, photo, '--out', str(out), *DET_OPTIONS]
        if backend != 'pytorch':
            args += ['--backend', backend, '--onnx', graph, *options]
        results[backend] = DEMO.run(args), out
        _keep(out, f'det_coffee_{backend}.png')
    ref, ref_out = results['pytorch']
    assert ref['num_instances'] >= 3 and len(set(np.round(ref['scores'], 4))) >= 3
    for backend, _ in BACKENDS:
        summary, out = results[backend]
        assert summary['labels'] == ref['labels'], backend
        np.testing.assert_allclose(summary['scores'], ref['scores'], atol=1e-4)
        np.testing.assert_allclose(summary['bboxes'], ref['bboxes'], atol=0.05)
        assert summary['masks'].shape == ref['masks'].shape
        assert (summary['masks'] == ref['masks']).mean() >= 0.999
        # the same colours (the demo seeds mmdet's mask-colour jitter; unseeded, two PyTorch
        # runs differ on ~37% of the pixels); what differs are a few mask-edge pixels
        assert _differing(out, ref_out) <= 0.001 * ref['image_shape'][0] * ref['image_shape'][1]
