"""Run a UniFormer model of any task on one image (a video for video configs) and write a picture.

    python demo/demo.py CONFIG CHECKPOINT INPUT --out OUT [--device cpu] [--topk 5]
        [--classes FILE] [--score-thr 0.3] [--bbox X1 Y1 X2 Y2 ...] [--cfg-options ...]

The task follows the config's ``default_scope``; each task runs its library's own inferencer
(:func:`mmuniformer.apis.build_inferencer`) and draws:

* cls (mmpretrain ``ImageClassificationInferencer``): the top-k labels and scores above the image;
* video (mmaction2 ``ActionRecogInferencer``): a GIF of the clip with the predicted label above it;
* det (mmdet ``DetInferencer``): boxes, labels and instance masks above ``--score-thr``;
* seg (mmseg ``MMSegInferencer``): the class map over the image;
* pose (mmpose ``MMPoseInferencer``'s model and visualizer, top-down): the skeletons in the
  ``--bbox`` boxes (default the whole image).

Class names come from the checkpoint (``dataset_meta``, saved by ``mim train``), else from
``--classes`` (one name per line; for det it replaces the checkpoint's), else ``class i``.
Small inputs are enlarged for drawing.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.config import DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import build_inferencer, config_task, load_config

MIN_SIDE = 256  # pictures are drawn at least this large


def _enlarge(image: np.ndarray, min_side: int = MIN_SIDE) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor so the short side >= ``min_side``."""
    factor = int(np.ceil(min_side / min(image.shape[:2])))
    if factor <= 1:
        return image
    return cv2.resize(image, (image.shape[1] * factor, image.shape[0] * factor),
                      interpolation=cv2.INTER_NEAREST)


def _read_classes(path: Optional[str]) -> Optional[List[str]]:
    if not path:
        return None
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def _names(meta_classes: Optional[Sequence[str]], fallback: Optional[List[str]],
           num: int) -> List[str]:
    classes = list(meta_classes) if meta_classes else fallback
    if classes and len(classes) != num:
        raise ValueError(f'{len(classes)} class names for a model with {num} classes')
    return classes or [f'class {i}' for i in range(num)]


def _put_lines(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """A dark band with ``lines`` (white) stacked above a BGR image (which stays uncovered)."""
    scale = max(image.shape[0] / 512, 0.45)
    height = int(24 * scale) + 4
    band = np.zeros((height * len(lines) + 6, image.shape[1], 3), dtype=image.dtype)
    for i, line in enumerate(lines):
        cv2.putText(band, line, (6, height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def demo_cls(inferencer: Any, path: str, out: str, topk: int,
             classes: Optional[List[str]]) -> Dict[str, Any]:
    result = inferencer(path)[0]
    scores = np.asarray(result['pred_scores'])
    names = _names(getattr(inferencer, 'classes', None), classes, len(scores))
    top = np.argsort(-scores, kind='stable')[:topk]
    lines = [f'{names[i]}: {scores[i]:.3f}' for i in top]
    mmcv.imwrite(_put_lines(_enlarge(mmcv.imread(path)), lines), out)
    return dict(task='cls', topk=[int(i) for i in top], labels=[names[i] for i in top],
                scores=[float(scores[i]) for i in top])


def _read_video(path: str) -> List[np.ndarray]:
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f'could not read any frame of {path!r}')
    return frames


def demo_video(inferencer: Any, path: str, out: str, topk: int,
               classes: Optional[List[str]], fps: float = 8.) -> Dict[str, Any]:
    from PIL import Image
    pred = inferencer(path, return_datasamples=True)['predictions'][0]
    scores = pred.pred_score.float().cpu().numpy()
    meta = (getattr(inferencer.model, 'dataset_meta', None) or {}).get('classes')
    names = _names(meta, classes, len(scores))
    top = np.argsort(-scores, kind='stable')[:topk]
    lines = [f'{names[top[0]]}: {scores[top[0]]:.3f}']
    frames = [_put_lines(_enlarge(f), lines) for f in _read_video(path)]
    if not out.lower().endswith('.gif'):
        raise ValueError(f'the video demo writes a GIF: --out must end with .gif, got {out!r}')
    images = [Image.fromarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
    images[0].save(out, save_all=True, append_images=images[1:], duration=int(1000 / fps),
                   loop=0)
    return dict(task='video', topk=[int(i) for i in top], labels=[names[i] for i in top],
                scores=[float(scores[i]) for i in top], frames=len(frames))


def _set_classes(inferencer: Any, classes: Optional[List[str]]) -> None:
    """Draw ``classes`` (``--classes``) instead of the model's names (mmdet falls back to
    COCO's 80 names when the checkpoint has none)."""
    meta = getattr(inferencer.model, 'dataset_meta', None) or {}
    if classes:
        meta = dict(meta, classes=tuple(classes))
        inferencer.model.dataset_meta = meta
        inferencer.visualizer.dataset_meta = meta


def demo_det(inferencer: Any, path: str, out: str, score_thr: float,
             classes: Optional[List[str]]) -> Dict[str, Any]:
    _set_classes(inferencer, classes)
    big = _enlarge(mmcv.imread(path))
    result = inferencer(big, return_vis=True, no_save_vis=True, no_save_pred=True,
                        pred_score_thr=score_thr, return_datasamples=True)
    mmcv.imwrite(result['visualization'][0][..., ::-1], out)  # RGB -> BGR
    inst = result['predictions'][0].pred_instances
    keep = inst.scores >= score_thr
    return dict(task='det', num_instances=int(keep.sum()), image_shape=big.shape[:2],
                labels=inst.labels[keep].tolist(), masks_shape=tuple(inst.masks[keep].shape),
                bboxes=inst.bboxes[keep].cpu().numpy())


def demo_seg(inferencer: Any, path: str, out: str) -> Dict[str, Any]:
    big = _enlarge(mmcv.imread(path))
    result = inferencer(big, return_vis=True)
    mmcv.imwrite(result['visualization'][..., ::-1], out)
    pred = np.asarray(result['predictions'])
    return dict(task='seg', pred_shape=pred.shape, labels=sorted(int(v) for v in np.unique(pred)),
                pred=pred)


def demo_pose(inferencer: Any, path: str, out: str,
              bboxes: Optional[List[List[float]]]) -> Dict[str, Any]:
    """Top-down pose in the given boxes (default the whole image) with the inferencer's model
    and visualizer (mmpose 1.3's ``MMPoseInferencer`` takes boxes from a detector only, so the
    boxes go through mmpose's ``inference_topdown``)."""
    from mmpose.apis import inference_topdown
    from mmpose.structures import merge_data_samples
    image = mmcv.imread(path)
    big = _enlarge(image)
    factor = big.shape[0] // image.shape[0]
    boxes = ([[v * factor for v in box] for box in bboxes] if bboxes
             else [[0, 0, big.shape[1], big.shape[0]]])
    samples = inference_topdown(inferencer.inferencer.model, big,
                                np.array(boxes, dtype=np.float32))
    visualizer = inferencer.inferencer.visualizer
    visualizer.add_datasample('pose', big[..., ::-1], merge_data_samples(samples),
                              draw_gt=False, draw_bbox=True, show=False)
    mmcv.imwrite(visualizer.get_image()[..., ::-1], out)
    return dict(task='pose', num_instances=len(samples), boxes=boxes,
                keypoints=[s.pred_instances.keypoints[0] for s in samples])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (its default_scope picks the task)')
    parser.add_argument('checkpoint', help='checkpoint of the whole model')
    parser.add_argument('input', help='image, or video file for video configs')
    parser.add_argument('--out', required=True, help='output picture (.png/.jpg; .gif for video)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:0, ...')
    parser.add_argument('--topk', type=int, default=5, help='labels drawn (cls)')
    parser.add_argument('--classes', help='class names, one per line, when the checkpoint '
                        'has none')
    parser.add_argument('--score-thr', type=float, default=0.3, help='det: lowest score drawn')
    parser.add_argument('--bbox', type=float, nargs=4, action='append', default=None,
                        metavar=('X1', 'Y1', 'X2', 'Y2'), help='pose: a person box (repeat)')
    parser.add_argument('--optimize', action='store_true',
                        help='run the model through mmuniformer.apis.optimize (folded, cast)')
    parser.add_argument('--dtype', default='auto', choices=['auto', 'fp32', 'bf16', 'fp16'],
                        help="--optimize's dtype (auto: bf16 where the hardware has bf16 units)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def run(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the demo; returns what was predicted and drawn (see the ``demo_*`` functions)."""
    args = parse_args(argv)
    if not osp.isfile(args.input):
        raise SystemExit(f'input {args.input!r} is not a file')
    if args.topk < 1:
        raise SystemExit(f'--topk must be >= 1, got {args.topk}')
    cfg = load_config(args.config, args.cfg_options)
    try:
        task = config_task(cfg)
    except ValueError as err:
        raise SystemExit(str(err))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    inferencer = build_inferencer(cfg, args.checkpoint, args.device, optimize=args.optimize,
                                  dtype=args.dtype)
    classes = _read_classes(args.classes)
    if task == 'cls':
        return demo_cls(inferencer, args.input, args.out, args.topk, classes)
    if task == 'video':
        return demo_video(inferencer, args.input, args.out, args.topk, classes)
    if task == 'det':
        return demo_det(inferencer, args.input, args.out, args.score_thr, classes)
    if task == 'seg':
        return demo_seg(inferencer, args.input, args.out)
    return demo_pose(inferencer, args.input, args.out, args.bbox)


if __name__ == '__main__':
    summary = run()
    print(f"{summary['task']}: wrote {parse_args().out}: "
          + ', '.join(f'{k}={v}' for k, v in summary.items()
                      if k not in ('task', 'pred', 'bboxes', 'keypoints')))
