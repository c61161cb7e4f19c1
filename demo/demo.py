"""Run a UniFormer model of any task on images (a video for video configs) and write pictures.

    python demo/demo.py CONFIG CHECKPOINT INPUT --out OUT [--device cpu] [--topk 5]
        [--classes FILE] [--score-thr 0.3] [--opacity 0.5] [--bbox X1 Y1 X2 Y2 ...] [--kpt-thr 0.3]
        [--fps 8] [--optimize [--dtype auto]] [--cfg-options ...]
    python demo/demo.py CONFIG [CHECKPOINT] INPUT --out OUT --backend onnxruntime|openvino
        --onnx MODEL.onnx [--precision f32|default] [...]

INPUT is an image, a folder of images (OUT is then a folder: one picture per image, named
after it, ``.png``) or, for video configs, a video (OUT ``.gif`` or ``.mp4``).

The task follows the config's ``default_scope``; each task runs its library's own inferencer
(:func:`mmuniformer.apis.build_inferencer`) and draws:

* cls (mmpretrain ``ImageClassificationInferencer``): the top-k labels and scores above the image;
* video (mmaction2 ``ActionRecogInferencer``): the clip with the predicted label above it;
* det (mmdet ``DetInferencer``): boxes, labels and instance masks above ``--score-thr``;
* seg (mmseg ``MMSegInferencer``): the class map blended over the image (``--opacity``);
* pose (mmpose ``MMPoseInferencer``'s model and visualizer, top-down): the skeletons in the
  ``--bbox`` boxes (default the whole image), keypoints scored ``--kpt-thr`` or more.

The checkpoint must fit the config's model (an official release is refused with the converter
command). Class names: ``--classes`` (one name per line, one per model class), else the
checkpoint's ``dataset_meta`` (saved by ``mim train`` and ``tools/convert_official.py``), else
the config dataset's, else ``class i``. Small inputs are enlarged for drawing.

Exported models: ``--backend onnxruntime`` or ``openvino`` with ``--onnx MODEL.onnx`` (the
config's whole model from ``tools/deployment/pytorch2onnx.py``, checked against the config's
task) runs the network in that runtime on the CPU
(:func:`mmuniformer.deployment.use_runtime`) inside the same inferencer: the same
pre-processing, post-processing and picture as ``--backend pytorch`` (the default).
``--precision`` (OpenVINO): ``f32`` (default) or ``default``, the plugin's own (bf16 on CPUs
with bf16 units). CHECKPOINT is then optional: it only gives the class names (its
``dataset_meta``); without it they come from ``--classes``, else the config's dataset.
``--optimize`` is for the PyTorch model only.
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
from typing import Any, Dict, Iterator, List, Optional, Sequence

import mmcv
import numpy as np
from mmengine.config import DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import build_inferencer, config_task, load_config, read_class_names
from mmuniformer.deployment import PRECISIONS, RUNTIMES
from mmuniformer.visualization import (IMAGE_EXTENSIONS, enlarge, put_lines, read_image,
                                       read_video, write_video)

VIDEO_OUTPUTS = ('.gif', '.mp4')
BACKENDS = ('pytorch', *RUNTIMES)


def _topk(topk: Optional[int], num: int) -> int:
    """``--topk`` checked against the model's ``num`` classes (default: 5 or ``num``)."""
    if topk is None:
        return min(5, num)
    if topk > num:
        raise ValueError(f'--topk {topk} is more than the model\'s {num} classes')
    return topk


def _names(classes: Optional[Sequence[str]], num: int) -> List[str]:
    return list(classes) if classes else [f'class {i}' for i in range(num)]


def demo_cls(inferencer: Any, path: str, out: str, topk: Optional[int]) -> Dict[str, Any]:
    image = read_image(path)
    result = inferencer(path)[0]
    scores = np.asarray(result['pred_scores'])
    topk = _topk(topk, len(scores))
    names = _names(getattr(inferencer, 'classes', None), len(scores))
    top = np.argsort(-scores, kind='stable')[:topk]
    lines = [f'{names[i]}: {scores[i]:.3f}' for i in top]
    mmcv.imwrite(put_lines(enlarge(image), lines), out)
    return dict(task='cls', topk=[int(i) for i in top], labels=[names[i] for i in top],
                scores=[float(scores[i]) for i in top])


def demo_video(inferencer: Any, path: str, out: str, topk: Optional[int],
               fps: float = 8.) -> Dict[str, Any]:
    frames = read_video(path)  # before the model: an undecodable file is named here
    pred = inferencer(path, return_datasamples=True)['predictions'][0]
    scores = pred.pred_score.float().cpu().numpy()
    topk = _topk(topk, len(scores))
    meta = (getattr(inferencer.model, 'dataset_meta', None) or {}).get('classes')
    names = _names(meta, len(scores))
    top = np.argsort(-scores, kind='stable')[:topk]
    lines = [f'{names[top[0]]}: {scores[top[0]]:.3f}']
    write_video([put_lines(enlarge(f), lines) for f in frames], out, fps)
    return dict(task='video', topk=[int(i) for i in top], labels=[names[i] for i in top],
                scores=[float(scores[i]) for i in top], frames=len(frames))


@contextlib.contextmanager
def numpy_seed(seed: int = 0) -> Iterator[None]:
    """NumPy's global random state seeded inside, restored after: mmdet's visualizer jitters
    each mask's colour with ``np.random``, so the same detections would draw other pictures."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def demo_det(inferencer: Any, path: str, out: str, score_thr: float) -> Dict[str, Any]:
    big = enlarge(read_image(path))
    with numpy_seed():  # one picture per prediction
        result = inferencer(big, return_vis=True, no_save_vis=True, no_save_pred=True,
                            pred_score_thr=score_thr, return_datasamples=True)
    mmcv.imwrite(result['visualization'][0][..., ::-1], out)  # RGB -> BGR
    inst = result['predictions'][0].pred_instances
    keep = inst.scores >= score_thr
    names = inferencer.model.dataset_meta['classes']
    return dict(task='det', num_instances=int(keep.sum()), image_shape=big.shape[:2],
                labels=inst.labels[keep].tolist(),
                names=[names[i] for i in inst.labels[keep].tolist()],
                scores=inst.scores[keep].cpu().numpy(),
                bboxes=inst.bboxes[keep].cpu().numpy(),
                masks=inst.masks[keep].cpu().numpy() if 'masks' in inst else None,
                masks_shape=tuple(inst.masks[keep].shape) if 'masks' in inst else None)


def demo_seg(inferencer: Any, path: str, out: str, opacity: float) -> Dict[str, Any]:
    big = enlarge(read_image(path))
    result = inferencer(big, return_vis=True, opacity=opacity)
    mmcv.imwrite(result['visualization'][..., ::-1], out)  # RGB -> BGR
    pred = np.asarray(result['predictions'])
    meta = inferencer.visualizer.dataset_meta
    return dict(task='seg', pred_shape=pred.shape, labels=sorted(int(v) for v in np.unique(pred)),
                pred=pred, classes=list(meta['classes']), palette=meta['palette'])


def check_boxes(bboxes: Sequence[Sequence[float]], shape: Sequence[int]) -> None:
    """Pose boxes must be ``X1 Y1 X2 Y2`` with ``x1 < x2``, ``y1 < y2`` and overlap the image."""
    height, width = shape[:2]
    for box in bboxes:
        x1, y1, x2, y2 = box
        text = ' '.join(f'{v:g}' for v in box)
        if not all(np.isfinite(box)):
            raise ValueError(f'--bbox {text}: coordinates must be finite numbers')
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f'--bbox {text}: a box is X1 Y1 X2 Y2 with x1 < x2 and y1 < y2 '
                             '(top-left corner first, non-zero width and height)')
        if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
            raise ValueError(f'--bbox {text} lies outside the {width}x{height} image')


def demo_pose(inferencer: Any, path: str, out: str, bboxes: Optional[List[List[float]]],
              kpt_thr: float = 0.3) -> Dict[str, Any]:
    """Top-down pose in the given boxes (default the whole image) with the inferencer's model
    and visualizer (mmpose 1.3's ``MMPoseInferencer`` takes boxes from a detector only, so the
    boxes go through mmpose's ``inference_topdown``)."""
    from mmpose.apis import inference_topdown
    from mmpose.structures import merge_data_samples
    image = read_image(path)
    if bboxes:
        check_boxes(bboxes, image.shape)  # per image of a folder
    big = enlarge(image)
    factor = big.shape[0] // image.shape[0]
    boxes = ([[v * factor for v in box] for box in bboxes] if bboxes
             else [[0, 0, big.shape[1], big.shape[0]]])
    samples = inference_topdown(inferencer.inferencer.model, big,
                                np.array(boxes, dtype=np.float32))
    visualizer = inferencer.inferencer.visualizer
    visualizer.add_datasample('pose', big[..., ::-1], merge_data_samples(samples),
                              draw_gt=False, draw_bbox=True, show=False, kpt_thr=kpt_thr)
    mmcv.imwrite(visualizer.get_image()[..., ::-1], out)
    return dict(task='pose', num_instances=len(samples), boxes=boxes,
                keypoints=[s.pred_instances.keypoints[0] for s in samples])


def _in_range(name: str, value: float, low: float, high: float) -> None:
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f'{name} must be in [{low:g}, {high:g}], got {value:g}')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (its default_scope picks the task)')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint of the whole model (optional with an ONNX --backend: '
                        'then only its class names are used)')
    parser.add_argument('input', help='image, folder of images, or a video for video configs')
    parser.add_argument('--out', required=True, help='output picture (.png/.jpg; .gif/.mp4 '
                        'for video), or a folder when INPUT is one')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:0, ...')
    parser.add_argument('--topk', type=int, default=None,
                        help='labels drawn (cls; default 5, or all classes if fewer)')
    parser.add_argument('--classes', help='class names, one per line (one per model class)')
    parser.add_argument('--score-thr', type=float, default=0.3, help='det: lowest score drawn')
    parser.add_argument('--opacity', type=float, default=0.5, help='seg: class map opacity')
    parser.add_argument('--kpt-thr', type=float, default=0.3,
                        help='pose: lowest keypoint score drawn')
    parser.add_argument('--fps', type=float, default=8., help='video: frames per second')
    parser.add_argument('--bbox', type=float, nargs=4, action='append', default=None,
                        metavar=('X1', 'Y1', 'X2', 'Y2'), help='pose: a person box (repeat)')
    parser.add_argument('--optimize', action='store_true',
                        help='run the model through mmuniformer.apis.optimize (folded, cast)')
    parser.add_argument('--dtype', default='auto', choices=['auto', 'fp32', 'bf16', 'fp16'],
                        help="--optimize's dtype (auto: bf16 where the hardware has bf16 units)")
    parser.add_argument('--backend', default='pytorch', choices=BACKENDS,
                        help='what runs the network: PyTorch, or the --onnx file in ONNX '
                        'Runtime / OpenVINO (CPU)')
    parser.add_argument('--onnx', help='ONNX file of the whole model (tools/deployment/'
                        'pytorch2onnx.py), for --backend onnxruntime / openvino')
    parser.add_argument('--precision', default=None, choices=PRECISIONS,
                        help="--backend openvino: 'f32' (default) or the plugin's 'default' "
                        '(bf16 on CPUs with bf16 units)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def _check_backend(args: argparse.Namespace) -> None:
    """``--backend`` / ``--onnx`` / ``--precision`` / ``--optimize`` / CHECKPOINT fit together."""
    if args.backend == 'pytorch':
        if args.onnx:
            raise ValueError(f'--onnx {args.onnx} needs --backend onnxruntime or openvino '
                             '(the default --backend pytorch runs the checkpoint)')
        if args.precision:
            raise ValueError('--precision is for --backend openvino')
        if args.checkpoint is None:
            raise ValueError('CHECKPOINT is missing: --backend pytorch runs the checkpoint '
                             '(only --backend onnxruntime / openvino --onnx FILE runs without '
                             'one)')
        return
    if not args.onnx:
        raise ValueError(f'--backend {args.backend} runs an exported model: give --onnx '
                         'MODEL.onnx (tools/deployment/pytorch2onnx.py CONFIG --checkpoint '
                         'CKPT --out MODEL.onnx)')
    if args.optimize:
        raise ValueError(f'--optimize is for --backend pytorch; --backend {args.backend} '
                         'runs the --onnx graph as exported')
    if args.precision == 'default' and args.backend != 'openvino':
        raise ValueError(f"--precision default is OpenVINO's own precision; --backend "
                         f'{args.backend} runs f32')


def _check_args(args: argparse.Namespace, task: str) -> List[str]:
    """The numeric options and the input; returns the image paths (or the one video)."""
    if args.topk is not None and args.topk < 1:
        raise ValueError(f'--topk must be >= 1, got {args.topk}')
    _in_range('--score-thr', args.score_thr, 0., 1.)
    _in_range('--opacity', args.opacity, 0., 1.)
    _in_range('--kpt-thr', args.kpt_thr, 0., 1.)
    if not (np.isfinite(args.fps) and args.fps > 0):
        raise ValueError(f'--fps must be > 0, got {args.fps:g}')
    if args.bbox and task != 'pose':
        raise ValueError(f'--bbox is for pose configs; this is a {task} config')
    if osp.isdir(args.input):
        if task == 'video':
            raise ValueError(f'{args.input!r} is a folder: the video demo takes one video file')
        paths = sorted(osp.join(args.input, name) for name in os.listdir(args.input)
                       if name.lower().endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise ValueError(f'folder {args.input!r} has no images '
                             f"({', '.join(IMAGE_EXTENSIONS)})")
        if osp.splitext(args.out)[1]:
            raise ValueError(f'INPUT is a folder: --out must be a folder too, got {args.out!r}')
        return paths
    if not osp.isfile(args.input):
        raise ValueError(f'input {args.input!r} is not a file or a folder')
    if task == 'video' and not args.out.lower().endswith(VIDEO_OUTPUTS):
        raise ValueError(f'the video demo writes a GIF or an MPEG-4 file: --out must end with '
                         f'.gif or .mp4, got {args.out!r}')
    if args.bbox:
        check_boxes(args.bbox, read_image(args.input).shape)
    return [args.input]


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the demo; returns what was predicted and drawn (see the ``demo_*`` functions; for
    a folder ``{'task', 'outputs': {picture path: summary}}``). Bad arguments and inputs
    raise ``SystemExit`` with the reason."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    try:
        _check_backend(args)
        task = config_task(cfg)
        paths = _check_args(args, task)
        classes = read_class_names(args.classes) if args.classes else None
        folder = osp.isdir(args.input)
        os.makedirs(args.out if folder else osp.dirname(osp.abspath(args.out)), exist_ok=True)
        runtime = dict(onnx=args.onnx, runtime=args.backend, precision=args.precision or 'f32'
                       ) if args.backend != 'pytorch' else {}
        inferencer = build_inferencer(cfg, args.checkpoint or None, args.device,
                                      classes=classes, optimize=args.optimize, dtype=args.dtype,
                                      **runtime)
        outputs = {}
        for path in paths:
            out = (osp.join(args.out, osp.splitext(osp.basename(path))[0] + '.png') if folder
                   else args.out)
            if task == 'cls':
                outputs[out] = demo_cls(inferencer, path, out, args.topk)
            elif task == 'video':
                outputs[out] = demo_video(inferencer, path, out, args.topk, args.fps)
            elif task == 'det':
                outputs[out] = demo_det(inferencer, path, out, args.score_thr)
            elif task == 'seg':
                outputs[out] = demo_seg(inferencer, path, out, args.opacity)
            else:
                outputs[out] = demo_pose(inferencer, path, out, args.bbox, args.kpt_thr)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
    return dict(task=task, outputs=outputs) if folder else outputs[args.out]


if __name__ == '__main__':
    summary = run()
    shown = ('task', 'pred', 'bboxes', 'keypoints', 'masks', 'scores', 'palette', 'outputs')
    if 'outputs' in summary:
        print(f"{summary['task']}: wrote {len(summary['outputs'])} pictures to "
              f'{parse_args().out}')
    else:
        print(f"{summary['task']}: wrote {parse_args().out}: "
              + ', '.join(f'{k}={v}' for k, v in summary.items() if k not in shown))
