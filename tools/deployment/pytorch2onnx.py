"""Export the whole model of a config to ONNX (dynamic batch, height, width and, for video,
frames) and check it against PyTorch in ONNX Runtime and OpenVINO.

    python tools/deployment/pytorch2onnx.py CONFIG [--checkpoint CKPT] [--out model.onnx]
        [--part auto|classifier|recognizer|segmentor|pose|detector|backbone]
        [--shape S | H W | T H W] [--verify-shape S | H W | T H W] [--batch 2]
        [--scores] [--argmax] [--opset 17] [--verify] [--runtimes onnxruntime openvino]
        [--benchmark N] [--threads 1 all] [--cfg-options KEY=VALUE ...]

What is exported (``--part auto``: the whole model of the config's task,
:attr:`mmuniformer.libraries.Library.export_part`); input ``input``, normalised pixels
``(B, 3, H, W)`` (``(B, 3, T, H, W)`` for video):

* ``classifier`` (mmpretrain): ``logits (B, K)`` (``--scores``: softmax ``scores``);
* ``recognizer`` (mmaction2): backbone + ``cls_head`` of one clip, ``logits (B, K)``
  (``--scores`` as above);
* ``segmentor`` (mmseg): backbone + neck + decode head + the bilinear resize to the input size,
  mmseg's ``encode_decode``: ``seg_logits (B, K, H, W)`` per pixel;
* ``pose`` (mmpose, top-down): backbone + head, ``heatmaps (B, J, H/4, W/4)``;
* ``detector`` (mmdet two-stage: Mask R-CNN, Cascade Mask R-CNN, Faster R-CNN): the whole
  inference with NMS and RoIAlign as ONNX operators
  (:class:`mmuniformer.deployment.DetectorGraph`): ``dets (B, D, 5)`` (boxes in input pixels
  and score; rows past the detections have score 0), ``labels (B, D)``, ``masks (B, D, M, M)``
  (each detection's mask probability in its box). Left to the caller: dividing the boxes by
  the photo's resize scale, and pasting / thresholding the masks in the photo;
* ``backbone`` (any config): ``model.backbone(inputs)``, one output per returned stage.

The light models (UniFormer-XXS / XS) export size-dynamic too: their token selection keeps
``int(N * keep_ratio)`` tokens as a graph value of the traced token count, and ranks the
tokens without a tie-dependent ``TopK`` (see ``mmuniformer.models.backbones.uniformer_light``).

``--argmax`` adds the argmax over the classes as an int64 output: ``labels (B,)`` of a
classifier / recogniser, ``class_map (B, H, W)`` of a segmentor. Data preprocessing (mean /
std, BGR -> RGB, resizing and padding the photo) and the resize of the maps back to the
original photo are not part of the graph.

Attention runs its explicit ``softmax(q k^T) v`` path in the graph (the same numbers as the
fused kernel). ``--verify`` compares each runtime with PyTorch (mmseg's / mmpose's own
forward, fused attention) at two inputs: batch ``--batch`` at the exported size and batch
``--batch + 1`` at ``--verify-shape`` (default: the exported size + 32 rows, + 64 columns;
for video also 4 frames fewer, at least 4). Per output it prints the max abs difference and the
agreement of the argmax (labels, per-pixel class, per-keypoint heatmap peak; detector: against
mmdet's ``predict``, each detection matched by label and IoU >= 0.9, and the pasted masks'
pixels). fp32 runs
(onnxruntime, OpenVINO with ``INFERENCE_PRECISION_HINT=f32``) must stay within ``--atol``
times ``max(1, max |output|)`` and agree on >= ``--min-agreement`` (99.9%) of the items, else
exit status 1; OpenVINO in its default precision (bf16 on CPUs with AVX512_BF16 or AMX) is
reported only. ``--benchmark N`` times N runs per batch of PyTorch eager fp32,
:func:`mmuniformer.apis.optimize` (fp32 and ``dtype='auto'``) and each runtime on one thread
and / or all (``--threads 1 all``; all = torch's thread count at start, ``os.cpu_count()``
unless ``OMP_NUM_THREADS`` says otherwise), wall and CPU time, as a markdown table.
"""
import argparse
import contextlib
import copy
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import DictAction
from mmengine.logging import MMLogger

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import input_shape_from_config
from mmuniformer.deployment import (RUNTIMES, DetectorGraph, check_detector, compare_detections,
                                   full_sizes, make_runner, mmdet_predictions)
from mmuniformer.libraries import BACKBONE, BY_SCOPE, LIBRARIES, flatten_tensors
from mmuniformer.models.layers import fused_kernels
from mmuniformer.visualization import load_model

DEFAULT_SIZE = 224
DEFAULT_FRAMES = 8
#: the second --verify input: this many more rows / columns, frames fewer (video)
VERIFY_GROW = (32, 64)
VERIFY_FEWER_FRAMES = 4
ForwardFn = Callable[[nn.Module, torch.Tensor], Any]


def _segmentor(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """mmseg's ``encode_decode``: decode head logits resized to the input, ``(B, K, H, W)``."""
    meta = dict(img_shape=x.shape[2:])  # a torch.Size: mmseg resizes to it as given
    return model.encode_decode(x, [meta] * x.shape[0])


def _pose(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """mmpose's ``mode='tensor'``: the heatmaps ``(B, J, H', W')`` (no flip test)."""
    out = model(x, None, mode='tensor')
    return out[0] if isinstance(out, (tuple, list)) else out


def _detector(model: nn.Module, x: torch.Tensor, image_sizes: Optional[torch.Tensor] = None
              ) -> Tuple[torch.Tensor, ...]:
    """The whole two-stage detector: ``dets (B, D, 5)``, ``labels (B, D)``, ``masks (B, D, M, M)``
    of ``x`` and each image's unpadded ``image_sizes (B, 2)``
    (:class:`mmuniformer.deployment.DetectorGraph`)."""
    return DetectorGraph(model)(x, image_sizes)


@dataclass(frozen=True)
class Part:
    """One exportable part: ``fn(model, x)`` (None: the class logits of the library whose
    :attr:`~mmuniformer.libraries.Library.export_part` it is), the model attribute it
    needs, its output names (see :func:`output_names`), which axis of its first output
    holds the classes (-1: argmax over each heatmap's pixels; None: no argmax to compare),
    the name of the argmax output and whether ``fn`` also takes each image's unpadded size
    (a second graph input ``image_sizes (B, 2)``)."""
    fn: Optional[ForwardFn]
    needs: str
    outputs: Tuple[str, ...]
    class_axis: Optional[int] = 1
    labels: str = 'labels'
    image_sizes: bool = False


#: part name (:attr:`mmuniformer.libraries.Library.export_part`) -> how it is exported
_OUTPUTS = {lib.export_part: lib.export_outputs for lib in LIBRARIES}  # what the runtimes read
PART_SPECS: Dict[str, Part] = {
    'classifier': Part(None, 'head', _OUTPUTS['classifier']),
    'recognizer': Part(None, 'cls_head', _OUTPUTS['recognizer']),
    'segmentor': Part(_segmentor, 'decode_head', _OUTPUTS['segmentor'], labels='class_map'),
    'pose': Part(_pose, 'head', _OUTPUTS['pose'], class_axis=-1),
    'detector': Part(_detector, 'roi_head', _OUTPUTS['detector'], class_axis=None,
                     image_sizes=True),
    'backbone': Part(BACKBONE.fn, 'backbone', ('output', ), class_axis=None),
}
PARTS = ('auto', *PART_SPECS)
assert all(lib.export_part in PART_SPECS for lib in LIBRARIES)


class ExportWrapper(nn.Module):
    """``forward(x, *extra)`` = ``fn(model, x, *extra)`` as a tuple of tensors (what the
    exporter needs), with the softmax (``scores``) and / or the argmax over ``class_axis``
    appended."""

    def __init__(self, model: nn.Module, fn: ForwardFn, scores: bool = False,
                 argmax: bool = False, class_axis: Optional[int] = 1) -> None:
        super().__init__()
        self.model = model
        self._fn = fn
        self.scores, self.argmax, self.class_axis = scores, argmax, class_axis

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = flatten_tensors(self._fn(self.model, x, *extra))
        if self.scores:
            out = (out[0].softmax(1), *out[1:])
        if self.argmax:
            out = (*out, out[0].argmax(self.class_axis))
        return out


def resolve_part(part: str, scope: str) -> str:
    """The exported part for ``--part`` (``auto``: by the config's ``default_scope``)."""
    if part not in PARTS:
        raise ValueError(f'unknown part {part!r}; choose one of {PARTS}')
    if part != 'auto':
        return part
    lib = BY_SCOPE.get(scope)
    return lib.export_part if lib is not None else 'backbone'


def export_fn(part: str, scope: str, model: Optional[nn.Module] = None) -> ForwardFn:
    """The forward of ``part``; refuses a library's part for another library's config (or a
    model without the module the part needs)."""
    spec = PART_SPECS[part]
    owner = next((lib for lib in LIBRARIES if lib.export_part == part), None)
    if owner is not None and scope != owner.scope:
        raise ValueError(f"--part {part} needs an {owner.package} config (default_scope "
                         f"'{owner.scope}'); this config's scope is {scope!r}: use --part "
                         f"{BY_SCOPE[scope].export_part if scope in BY_SCOPE else 'backbone'}"
                         ' or backbone')
    if model is not None and getattr(model, spec.needs, None) is None:
        raise ValueError(f'--part {part} needs a model with a {spec.needs!r}; '
                         f'{type(model).__name__} has none: use --part backbone')
    return spec.fn or owner.logits


def _parse_size(shape: Sequence[int], flag: str) -> Tuple[int, ...]:
    if len(shape) not in (1, 2, 3) or any(s < 1 for s in shape):
        raise ValueError(f'{flag} takes 1, 2 or 3 positive integers (S, H W or T H W), '
                         f'got {list(shape)}')
    return tuple(shape) * 2 if len(shape) == 1 else tuple(shape)


def input_size(shape: Optional[Sequence[int]], cfg: Any, video: bool) -> Tuple[int, ...]:
    """``(H, W)`` or ``(T, H, W)`` from ``--shape``, else the config's test pipeline."""
    frames, hw = input_shape_from_config(cfg)
    size = _parse_size(shape, '--shape') if shape else (hw or (DEFAULT_SIZE, DEFAULT_SIZE))
    if video and len(size) == 2:
        size = (frames or DEFAULT_FRAMES, ) + size
    if not video and len(size) == 3:
        raise ValueError(f'--shape {list(shape)} has a time axis, but this model takes images')
    return size


def second_size(size: Tuple[int, ...], shape: Optional[Sequence[int]]) -> Tuple[int, ...]:
    """The second ``--verify`` input size: ``--verify-shape`` (given with or without the time
    axis), else ``size`` grown by :data:`VERIFY_GROW` and, for video, fewer frames."""
    if shape:
        other = _parse_size(shape, '--verify-shape')
        if len(other) == 2 and len(size) == 3:
            other = (size[0], *other)
        if len(other) != len(size):
            raise ValueError(f'--verify-shape {list(shape)} does not fit the input {size}')
        return other
    hw = (size[-2] + VERIFY_GROW[0], size[-1] + VERIFY_GROW[1])
    if len(size) == 3:
        return (max(size[0] - VERIFY_FEWER_FRAMES, 4) if size[0] > 4 else size[0], *hw)
    return hw


def _contiguous_symbolic(g: Any, x: Any, memory_format: Any) -> Any:
    """``x.contiguous(memory_format=...)`` in ONNX: the identity. ONNX tensors have no memory
    layout, while torch's own symbolic refuses any format but the default (the backbones keep
    their maps channels-last on CPU)."""
    return x


def _movedim_symbolic(g: Any, x: Any, source: Any, destination: Any) -> Any:
    """``x.movedim(source, destination)`` as one ONNX ``Transpose``, negative dims included
    (torch's TorchScript symbolic writes them into ``perm`` unnormalised, which ONNX
    refuses)."""
    from torch.onnx import symbolic_helper
    rank = symbolic_helper._get_tensor_rank(x)
    if rank is None:
        raise RuntimeError('movedim needs an input of known rank to be exported')
    src, dst = ([int(d) % rank
                 for d in torch.as_tensor(symbolic_helper._maybe_get_const(v, 't')).flatten()]
                for v in (source, destination))
    perm = [-1] * rank
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(rank) if i not in src)
    perm = [p if p >= 0 else next(rest) for p in perm]
    return g.op('Transpose', x, perm_i=perm)


# aten op -> symbolic replacing torch's own during the export
_SYMBOLICS = {'aten::contiguous': _contiguous_symbolic, 'aten::movedim': _movedim_symbolic}


@contextlib.contextmanager
def _export_symbolics(opset: int) -> Iterator[None]:
    for name, fn in _SYMBOLICS.items():
        torch.onnx.register_custom_op_symbolic(name, fn, opset)
    try:
        yield
    finally:
        for name in _SYMBOLICS:
            torch.onnx.unregister_custom_op_symbolic(name, opset)


def _scale_upsample(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, None, module.scale_factor, module.mode, module.align_corners)
    return forward


def _bin_matrix(n: torch.Tensor, bins: int, like: torch.Tensor) -> torch.Tensor:
    """``(bins, n)`` averaging matrix of adaptive pooling along an axis of length ``n`` (a
    traced size): row ``i`` averages ``[floor(i n / bins), ceil((i + 1) n / bins))``."""
    i = torch.arange(bins, device=like.device)
    start = torch.div(i * n, bins, rounding_mode='floor')
    end = torch.div((i + 1) * n + bins - 1, bins, rounding_mode='floor')
    j = torch.arange(n, device=like.device)
    inside = (j[None] >= start[:, None]) & (j[None] < end[:, None])
    return inside.to(like.dtype) / (end - start)[:, None].to(like.dtype)


def _matrix_adaptive_pool(module: nn.AdaptiveAvgPool2d) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(x: torch.Tensor) -> torch.Tensor:
        size = module.output_size
        oh, ow = (size, size) if isinstance(size, int) else size
        oh, ow = oh or x.shape[-2], ow or x.shape[-1]
        rows = _bin_matrix(torch.tensor(x.shape[-2]), oh, x)
        cols = _bin_matrix(torch.tensor(x.shape[-1]), ow, x)
        return rows @ x @ cols.transpose(0, 1)
    return forward


@contextlib.contextmanager
def _traceable_sizes(model: nn.Module) -> Iterator[None]:
    """Keep height and width dynamic in the traced graph, while exporting only:

    * mmseg's ``Upsample`` computes its output size with ``int()`` (a constant): resize by its
      ``scale_factor`` instead (the same sampling grid: for integer factors both give
      ``factor * size`` with the scale ``1 / factor``);
    * ``AdaptiveAvgPool2d`` to more than one bin (UperNet's pyramid pooling) becomes a
      fixed-kernel ``AveragePool`` (refused where the bins do not divide the map): pool with
      the bins' averaging matrices instead, ``rows @ x @ cols^T`` (PyTorch's bins).
    """
    try:
        from mmseg.models.utils import Upsample
    except ImportError:
        Upsample = ()
    patched = []
    for m in model.modules():
        if isinstance(m, Upsample) and not m.size:
            m.forward = _scale_upsample(m)
        elif isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
            m.forward = _matrix_adaptive_pool(m)
        else:
            continue
        patched.append(m)
    try:
        yield
    finally:
        for m in patched:
            del m.forward


def output_names(names: Sequence[str], n_out: int, scores: bool = False) -> List[str]:
    """``n_out`` output names from a part's ``names``: the first ``n_out`` of them, else
    ``n_out / len(names)`` indexed outputs per name (``feat0.., rpn_cls0..``) when that
    divides, else the first name indexed; the first one is ``scores`` with ``scores``."""
    names = ['scores', *names[1:]] if scores else list(names)
    if n_out <= len(names):
        return names[:n_out]
    if n_out % len(names) == 0:
        per = n_out // len(names)
        return [f'{name}{i}' for name in names for i in range(per)]
    return [f'{names[0]}{i}' for i in range(n_out)]


def export_onnx(model: nn.Module, fn: ForwardFn, example: torch.Tensor, out: str,
                opset: int = 17, names: Sequence[str] = ('output', ), scores: bool = False,
                argmax: bool = False, class_axis: Optional[int] = 1,
                labels: str = 'labels', image_sizes: bool = False) -> List[str]:
    """Export ``fn(model, x)`` to ``out`` with a dynamic batch, height, width (and frames for
    ``(B, C, T, H, W)`` inputs); returns the output names.

    ``example``: ``(B, C, ...)``; use B >= 2 so that no size-1 batch gets folded away.
    ``names``: the output names (see :func:`output_names`). ``image_sizes``: ``fn`` takes a
    second input, each image's unpadded ``(height, width)``, graph input ``image_sizes
    (B, 2)`` int64.
    """
    wrapper = ExportWrapper(model, fn, scores, argmax, class_axis).eval()
    args = (example, full_sizes(example)) if image_sizes else (example, )
    input_names = ['input', 'image_sizes'][:len(args)]
    with torch.no_grad(), fused_kernels(model, False, 'attention'), \
            _export_symbolics(opset), _traceable_sizes(model):
        n_out = len(wrapper(*args)) - int(argmax)
        names = output_names(names, n_out, scores) + ([labels] if argmax else [])
        in_axes = {0: 'batch', example.dim() - 2: 'height', example.dim() - 1: 'width'}
        if example.dim() == 5:
            in_axes[2] = 'frames'
        axes: Dict[str, Dict[int, str]] = {'input': in_axes}
        for name in names + input_names[1:]:
            axes[name] = {0: 'batch'}
        torch.onnx.export(wrapper, args, out, input_names=input_names, output_names=names,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True,
                          dynamo=False)
    return names


def torch_outputs(model: nn.Module, fn: ForwardFn, x: torch.Tensor, scores: bool = False,
                  argmax: bool = False, class_axis: Optional[int] = 1) -> List[np.ndarray]:
    """PyTorch reference outputs of ``fn(model, x)`` (eval mode, fused attention as trained,
    the libraries' own modules)."""
    with torch.no_grad():
        out = ExportWrapper(model, fn, scores, argmax, class_axis).eval()(x)
    return [t.numpy() for t in out]


def onnx_outputs(path: str, x: np.ndarray) -> List[np.ndarray]:
    """Outputs of the ONNX file ``path`` on ``x`` with onnxruntime's CPU provider."""
    return make_runner(path, 'onnxruntime')[0](x)


def max_abs_diff(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Largest absolute difference over matching outputs (shapes must agree)."""
    if len(a) != len(b):
        raise AssertionError(f'{len(a)} outputs against {len(b)}')
    for x, y in zip(a, b):
        if x.shape != y.shape:
            raise AssertionError(f'output shapes differ: {x.shape} against {y.shape}')
    return max(float(np.abs(x.astype(np.float64) - y).max()) for x, y in zip(a, b))


def argmax_agreement(a: np.ndarray, b: np.ndarray, class_axis: int) -> float:
    """Fraction of items whose argmax agrees: over ``class_axis`` (labels, per-pixel
    classes), or, for ``-1``, over each ``(H, W)`` map (heatmap peaks)."""
    if class_axis == -1:
        a, b = a.reshape(*a.shape[:2], -1), b.reshape(*b.shape[:2], -1)
        return float((a.argmax(-1) == b.argmax(-1)).mean())
    return float((a.argmax(class_axis) == b.argmax(class_axis)).mean())


@dataclass
class Check:
    """The comparison of one runtime with PyTorch on one input."""
    runtime: str
    precision: str
    shape: Tuple[int, ...]
    max_diff: float  # over the float outputs
    scale: float  # max |PyTorch output|
    agreement: Optional[float]  # argmax / detection agreement (None: no classes)
    exact: Optional[float] = None  # agreement of the exported argmax output
    masks: Optional[float] = None  # pixel agreement of the matched detections' masks
    agreeing: str = 'argmax agreement'  # what ``agreement`` counts

    def passed(self, atol: float, min_agreement: float) -> bool:
        ok = self.max_diff <= atol * max(1., self.scale)
        return ok and all(a is None or a >= min_agreement
                          for a in (self.agreement, self.exact, self.masks))

    def line(self) -> str:
        text = (f'{self.runtime:<11} {self.precision:<5} input {self.shape}: max |diff| '
                f'{self.max_diff:.3g} (outputs up to {self.scale:.3g})')
        if self.agreement is not None:
            text += f', {self.agreeing} {100 * self.agreement:.3f}%'
        if self.exact is not None:
            text += f', exported argmax {100 * self.exact:.3f}%'
        if self.masks is not None:
            text += f', mask pixels {100 * self.masks:.3f}%'
        return text


def compare(ours: Sequence[np.ndarray], ref: Sequence[np.ndarray], runtime: str,
            precision: str, shape: Tuple[int, ...], class_axis: Optional[int],
            argmax: bool) -> Check:
    """:class:`Check` of one runtime's outputs against PyTorch's (same order) on an input
    of ``shape``."""
    if argmax:
        exact = float((ours[-1] == ref[-1]).mean())
        ours, ref = ours[:-1], ref[:-1]
    else:
        exact = None
    agree = None if class_axis is None else argmax_agreement(ours[0], ref[0], class_axis)
    scale = max(float(np.abs(r).max()) for r in ref)
    return Check(runtime, precision, tuple(shape), max_abs_diff(ours, ref), scale,
                 agree, exact)


def time_per_run(run: Callable[[], Any], n: int) -> Tuple[float, float]:
    """``(CPU seconds, wall seconds)`` per call of ``run`` over ``n`` calls after one warm-up;
    CPU time is this process's, summed over its threads."""
    run()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        run()
    return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


@dataclass
class Timing:
    """One ``--benchmark`` row: seconds per batch of one runner on ``threads`` threads."""
    runner: str
    precision: str
    threads: int
    cpu: float
    wall: float

    def row(self) -> str:
        return (f'| {self.runner} | {self.precision} | {self.threads} | '
                f'{1e3 * self.wall:.1f} | {1e3 * self.cpu:.1f} |')


def thread_counts(choices: Sequence[str], all_threads: int) -> List[int]:
    """``--threads`` as numbers: '1' and 'all' (``all_threads``), duplicates dropped."""
    counts: List[int] = []
    for choice in choices:
        if choice not in ('1', 'all'):
            raise ValueError(f"--threads takes '1' and / or 'all', got {choice!r}")
        count = all_threads if choice == 'all' else 1
        if count not in counts:
            counts.append(count)
    return counts


def benchmark(model: nn.Module, fn: ForwardFn, x: torch.Tensor, path: str,
              runs: Sequence[Tuple[str, str]], n: int, threads: Sequence[int],
              heads: Dict[str, Any], pytorch_fn: Optional[ForwardFn] = None) -> List[Timing]:
    """Time ``fn(model, x)`` (or the library's own ``pytorch_fn(model, x)``, a detector's
    ``predict``) in PyTorch eager fp32, after :func:`mmuniformer.apis.optimize` (fp32 and
    ``dtype='auto'``, on copies of ``model``) and in each ``(runtime, precision)`` of ``runs``
    on the ONNX file ``path``, on each count of ``threads`` (``torch.set_num_threads``, ORT
    ``intra_op_num_threads``, OpenVINO ``INFERENCE_NUM_THREADS``); ``n`` calls after one
    warm-up each."""
    from mmuniformer.apis import optimize
    from mmuniformer.apis.optimize import auto_dtype
    auto = auto_dtype('cpu')
    variants = [('pytorch eager', 'fp32', model),
                ('optimize', 'fp32', optimize(copy.deepcopy(model), 'fp32')),
                ('optimize auto', auto, optimize(copy.deepcopy(model), 'auto'))]
    timings = []
    for count in threads:
        torch.set_num_threads(count)
        for name, precision, module in variants:
            wrapper = ExportWrapper(module, fn, **heads).eval()
            call = (lambda: pytorch_fn(module, x)) if pytorch_fn else (lambda: wrapper(x))
            with torch.no_grad():
                timings.append(Timing(name, precision, count, *time_per_run(call, n)))
        array = x.numpy()
        for runtime, precision in runs:
            run, used = make_runner(path, runtime, precision, count)
            timings.append(Timing(runtime, used, count, *time_per_run(lambda: run(array), n)))
    return timings


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint (state_dict of the whole model); '
                        'default: the initial weights (seed 0)')
    parser.add_argument('--out', default=None, help='ONNX file (default: <config stem>.onnx)')
    parser.add_argument('--part', default='auto', choices=PARTS, help='what to export')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='S, H W, or T H W for video (default: the test pipeline size)')
    parser.add_argument('--verify-shape', type=int, nargs='+', default=None,
                        help='the second --verify input size (default: --shape + 32 rows, '
                        '+ 64 columns, video 4 frames fewer)')
    parser.add_argument('--batch', type=int, default=2, help='example batch (>= 2)')
    parser.add_argument('--scores', action='store_true',
                        help='classifier / recogniser: softmax scores instead of logits')
    parser.add_argument('--argmax', action='store_true',
                        help='add the argmax over the classes (labels / class map)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset')
    parser.add_argument('--verify', action='store_true',
                        help='compare the runtimes with PyTorch at two input sizes')
    parser.add_argument('--runtimes', nargs='+', default=list(RUNTIMES), choices=RUNTIMES,
                        help='runtimes for --verify / --benchmark')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='fp32 tolerance, times max(1, max |output|)')
    parser.add_argument('--min-agreement', type=float, default=0.999,
                        help='fp32: least fraction of agreeing labels / pixels / keypoints')
    parser.add_argument('--benchmark', type=int, default=0, metavar='N',
                        help='time N runs of PyTorch (eager, optimize) and each runtime')
    parser.add_argument('--threads', nargs='+', default=['1', 'all'], choices=('1', 'all'),
                        help="--benchmark thread counts: 1 and / or 'all' (torch's thread "
                        'count at start)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    logger = MMLogger.get_current_instance()
    if args.batch < 2:
        raise SystemExit(f'--batch must be >= 2 (a batch of 1 can be folded into the graph), '
                         f'got {args.batch}')
    torch.manual_seed(0)  # the same initial weights on every run without --checkpoint
    try:  # the checkpoint read weights-only and checked against the model (what it is if not)
        model, cfg, scope = load_model(args.config, args.checkpoint, args.cfg_options)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
    try:
        part = resolve_part(args.part, scope)
        spec = PART_SPECS[part]
        fn = export_fn(part, scope, model)
        if (args.scores or args.argmax) and spec.class_axis != 1:
            raise ValueError(f'--scores / --argmax need class logits (classifier, recognizer, '
                             f'segmentor), not --part {part}')
        if part == 'detector':
            check_detector(model)
        if args.scores and part == 'segmentor':
            raise ValueError('--scores: a segmentor exports per-pixel logits; use --argmax')
        video = part == 'recognizer' or getattr(getattr(model, 'backbone', None), 'ndim', 2) == 3
        size = input_size(args.shape, cfg, video)
        size2 = second_size(size, args.verify_shape)
    except ValueError as err:
        raise SystemExit(str(err))
    out = args.out or osp.splitext(osp.basename(args.config))[0] + '.onnx'
    gen = torch.Generator().manual_seed(0)
    example = torch.randn(args.batch, 3, *size, generator=gen)
    heads = dict(scores=args.scores, argmax=args.argmax, class_axis=spec.class_axis)
    names = export_onnx(model, fn, example, out, args.opset, spec.outputs,
                        image_sizes=spec.image_sizes,
                        labels=spec.labels, **heads)
    dims = 'batch, 3, ' + ('frames, ' if video else '') + 'height, width'
    logger.info(f'exported {part} of {args.config} ({scope}) to {out}, opset {args.opset}')
    sizes_input = ', image_sizes (batch, 2)' if spec.image_sizes else ''
    print(f'{out}: {part}, input ({dims}){sizes_input} exported at {(args.batch, 3, *size)}, '
          f'outputs {names}')
    if part == 'detector':
        print('left to the caller: the boxes divided by the resize scale of the photo, and '
              'the masks pasted into it (mmdet\'s _do_paste_mask) and thresholded')
    if not (args.verify or args.benchmark):
        return 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        inputs = [torch.randn(args.batch, 3, *size, generator=gen),
                  torch.randn(args.batch + 1, 3, *size2, generator=gen)]
        if part == 'detector':  # mmdet's own predict, compared detection by detection
            refs = [mmdet_predictions(model, x) for x in inputs]
        else:
            refs = [torch_outputs(model, fn, x, **heads) for x in inputs]
        runs = [(rt, prec) for rt in args.runtimes
                for prec in (('f32', 'default') if rt == 'openvino' else ('f32', ))]
        failed, compared = False, 0
        for runtime, precision in runs:
            run, used = make_runner(out, runtime, precision)
            for x, ref in zip(inputs, refs):
                if part == 'detector':
                    found = compare_detections(run(x.numpy()), ref)
                    compared += found['count']
                    check = Check(runtime, used, tuple(x.shape), found['max_diff'],
                                  found['scale'], found['agreement'], masks=found.get('masks'),
                                  agreeing='detections matched')
                else:
                    check = compare(run(x.numpy()), ref, runtime, used, tuple(x.shape),
                                    spec.class_axis, args.argmax)
                strict = used == 'f32'
                ok = check.passed(args.atol, args.min_agreement)
                failed |= strict and not ok
                mark = ('ok' if ok else 'FAILED') if strict else 'reported'
                print(f'verify {check.line()} [{mark}]')
        if args.benchmark:
            counts = thread_counts(args.threads, threads)
            timings = benchmark(model, fn, inputs[0], out, runs, args.benchmark, counts, heads,
                                mmdet_predictions if part == 'detector' else None)
            print(f'benchmark: batch {args.batch}, input {tuple(inputs[0].shape)}, '
                  f'{args.benchmark} runs after one warm-up; ms per batch, wall = elapsed, '
                  'CPU = this process summed over its threads')
            print('| runner | precision | threads | wall ms | CPU ms |\n|---|---|---|---|---|')
            print('\n'.join(t.row() for t in timings))
    finally:
        torch.set_num_threads(threads)
    if args.verify:
        if part == 'detector' and not compared:
            print(f'not verified: PyTorch finds no detection scored above '
                  f'{model.roi_head.test_cfg.score_thr} on the test inputs, so nothing was '
                  'compared (an untrained box head scores about 1 / (classes + 1)); use '
                  '--checkpoint with trained weights')
            return 1
        if failed:
            print(f'FAILED: an fp32 runtime exceeds --atol {args.atol} (times the output '
                  f'scale) or agrees on less than {args.min_agreement:.2%}')
            return 1
        print('verified')
    return 0


if __name__ == '__main__':
    sys.exit(main())
