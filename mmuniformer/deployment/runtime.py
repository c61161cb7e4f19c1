"""Run an exported ONNX graph (``tools/deployment/pytorch2onnx.py``) in ONNX Runtime or
OpenVINO inside an OpenMMLab model, keeping the library's own pre-processing, post-processing
and drawing.

:func:`make_runner` runs an ONNX file on the CPU. :func:`check_onnx` checks that a file is the
whole-model graph of a config's task (its input and the outputs of
:attr:`mmuniformer.libraries.Library.export_outputs`). :func:`use_runtime` swaps the network
computation of a built model for the runtime at the narrowest seam of its library's model,
the part the exporter puts in the graph:

* cls (mmpretrain ``ImageClassifier``): ``extract_feat`` + ``head.forward`` (the logits);
  ``ClsHead.predict`` still turns them into scores and labels;
* video (mmaction2 ``Recognizer3D``): ``backbone`` + ``cls_head.forward``, the logits of each
  clip; ``extract_feat``'s clip reshaping and the head's test-mode clip averaging stay;
* seg (mmseg ``EncoderDecoder``): ``encode_decode`` (``seg_logits (B, K, H, W)`` at the input
  size); whole / sliding-window inference and the resize to the photo stay;
* pose (mmpose ``TopdownPoseEstimator``): ``extract_feat`` + ``head.forward`` (the heatmaps);
  the flip test (the graph runs twice) and the codec's decoding stay;
* det (mmdet two-stage detectors): ``predict``, from the graph's ``dets (B, N, 5)``,
  ``labels (B, N)`` and ``masks (B, N, 28, 28)`` (:func:`det_instances`).
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..libraries import LIBRARIES, Library, library_of
from .detector import paste_masks

RUNTIMES = ('onnxruntime', 'openvino')
#: OpenVINO CPU precisions: 'f32' (``INFERENCE_PRECISION_HINT=f32``) or the plugin's default
PRECISIONS = ('f32', 'default')
#: rank of each output the swaps read (the exporter's whole-model graphs)
OUTPUT_RANKS = {'logits': 2, 'seg_logits': 4, 'heatmaps': 4, 'dets': 3, 'labels': 2, 'masks': 4}
EXPORT_HINT = ('export it with `python tools/deployment/pytorch2onnx.py CONFIG --checkpoint '
               'CKPT --out FILE` (the default --part, without --scores)')
Runner = Callable[..., List[np.ndarray]]


def _feed(names: Sequence[str], x: np.ndarray, image_sizes: Optional[np.ndarray]
          ) -> Dict[str, np.ndarray]:
    """The graph's inputs: ``input`` and, where the graph has it (detectors),
    ``image_sizes (B, 2)`` (default: every image is the whole input)."""
    feed = {'input': x.astype(np.float32)}
    if 'image_sizes' in names:
        if image_sizes is None:
            image_sizes = np.tile(np.array(x.shape[-2:], np.int64), (len(x), 1))
        feed['image_sizes'] = np.asarray(image_sizes, np.int64).reshape(len(x), 2)
    return feed


def make_runner(path: str, runtime: str, precision: str = 'f32',
                threads: Optional[int] = 1) -> Tuple[Runner, str]:
    """``(run(x, image_sizes=None) -> outputs, precision used)`` of the ONNX file ``path`` on
    the CPU: ``runtime`` 'onnxruntime' (fp32) or 'openvino' (``precision`` 'f32', or
    'default' for the plugin's own ``INFERENCE_PRECISION_HINT``), on ``threads`` threads
    (None: the runtime's default, all cores). ``run`` takes the ``input`` array (and, for a
    detector's graph, each image's unpadded ``(height, width)``, default the input's) and
    returns the outputs in the graph's order."""
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; choose one of {PRECISIONS}')
    if runtime == 'onnxruntime':
        import onnxruntime as ort
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        names = [i.name for i in session.get_inputs()]

        def run_ort(x: np.ndarray, image_sizes: Optional[np.ndarray] = None
                    ) -> List[np.ndarray]:
            return session.run(None, _feed(names, x, image_sizes))
        return run_ort, 'f32'
    if runtime == 'openvino':
        import openvino as ov
        config: Dict[str, Any] = {'INFERENCE_NUM_THREADS': threads} if threads else {}
        if precision == 'f32':
            config['INFERENCE_PRECISION_HINT'] = 'f32'
        compiled = ov.Core().compile_model(path, 'CPU', config)
        used = str(compiled.get_property('INFERENCE_PRECISION_HINT'))
        request = compiled.create_infer_request()
        names = [i.any_name for i in compiled.inputs]

        def run(x: np.ndarray, image_sizes: Optional[np.ndarray] = None) -> List[np.ndarray]:
            result = request.infer(_feed(names, x, image_sizes))
            return [np.asarray(result[out]) for out in compiled.outputs]
        return run, {'<Type: \'float32\'>': 'f32', '<Type: \'bfloat16\'>': 'bf16',
                     '<Type: \'float16\'>': 'f16'}.get(used, used)
    raise ValueError(f'unknown runtime {runtime!r}; choose one of {RUNTIMES}')


def _dims(value_info: Any) -> Tuple[Any, ...]:
    """An ONNX value's dims: ints where fixed, names (str) where dynamic, None if unknown."""
    return tuple(d.dim_value if d.HasField('dim_value') else (d.dim_param or None)
                 for d in value_info.type.tensor_type.shape.dim)


def _describe(shape: Tuple[Any, ...]) -> str:
    """``(batch, 8)``: fixed sizes, the exporter's axis names, ``?`` for sizes that ONNX's
    shape inference left unnamed or named after an op."""
    named = ('batch', 'frames', 'height', 'width')
    return '(' + ', '.join(str(d) if isinstance(d, int) and d or d in named else '?'
                           for d in shape) + ')'


def _what_it_is(outputs: Sequence[str], input_rank: int) -> str:
    """A guess at what an ONNX file with ``outputs`` is, for error messages."""
    if 'scores' in outputs:
        return 'a classifier / recogniser exported with --scores (softmax scores)'
    for lib in LIBRARIES:
        if lib.export_outputs and list(outputs[:len(lib.export_outputs)]) == list(
                lib.export_outputs):
            if lib.export_outputs == ('logits', ) and (input_rank == 5) != (lib.task == 'video'):
                continue  # cls and video both give logits: told apart by the input rank
            return f'the whole-model graph of {lib.description}'
    if outputs and all(name.startswith('output') for name in outputs):
        return 'a backbone (--part backbone)'
    if any(name.startswith('rpn_cls') for name in outputs):
        return "a detector's features and RPN maps (the earlier --part detector)"
    return 'not a whole-model graph of the exporter'


def check_onnx(path: str, lib: Library, model: Optional[nn.Module] = None
               ) -> Tuple[List[str], Tuple[Any, ...]]:
    """Check that the ONNX file ``path`` is the whole-model graph of ``lib``'s task; returns
    its output names and its input's dims (ints where fixed). ``ValueError`` naming the file,
    what it has and what is expected: a missing file, another input, missing outputs (a file exported with ``--scores`` or
    ``--part backbone``, another task's graph) or, with ``model``, another number of classes
    (keypoints for pose) than the model's."""
    import os.path as osp

    import onnx
    if not osp.isfile(path):
        raise ValueError(f'ONNX file {path!r} does not exist: {EXPORT_HINT.replace("FILE", path)}')
    try:
        graph = onnx.load(path, load_external_data=False).graph
    except Exception as err:  # onnx raises DecodeError and others for non-ONNX files
        raise ValueError(f'{path!r} is not an ONNX model ({type(err).__name__}: {err})')
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if lib.task == 'det' and [i.name for i in inputs] == ['input', 'image_sizes']:
        inputs = inputs[:1]  # each image's unpadded size, fed by the detector's swap
    outputs = [o.name for o in graph.output]
    shapes = {o.name: _dims(o) for o in graph.output}
    rank = 5 if lib.task == 'video' else 4
    layout = '(B, 3, T, H, W)' if rank == 5 else '(B, 3, H, W)'
    in_shape = _dims(inputs[0]) if len(inputs) == 1 else ()
    if len(inputs) != 1 or inputs[0].name != 'input' or len(in_shape) != rank \
            or in_shape[1] not in (3, None) and not isinstance(in_shape[1], str):
        have = ', '.join(f'{i.name!r} {_describe(_dims(i))}' for i in inputs)
        raise ValueError(f'ONNX file {path!r} has the input(s) {have} '
                         f'({_what_it_is(outputs, len(in_shape))}); {lib.description} takes '
                         f"one input 'input' {layout}: {EXPORT_HINT}")
    missing = [name for name in lib.export_outputs if name not in outputs]
    wrong_rank = [name for name in lib.export_outputs if name in outputs
                  and len(shapes[name]) != OUTPUT_RANKS.get(name, len(shapes[name]))]
    if missing or wrong_rank or not lib.export_outputs:
        expected = ', '.join(f'{n} (rank {OUTPUT_RANKS[n]})' for n in lib.export_outputs)
        have = ', '.join(f'{n} {_describe(shapes[n])}' for n in outputs)
        raise ValueError(f'ONNX file {path!r} has the outputs {have}: '
                         f'{_what_it_is(outputs, rank)}; {lib.description} needs '
                         f'{expected or "a whole-model graph (none exported)"}: {EXPORT_HINT}')
    if model is not None and lib.task != 'det':
        from ..apis.inference import model_num_classes
        first = lib.export_outputs[0]
        num = (model_num_classes(model) if lib.task != 'pose'
               else getattr(getattr(model, 'head', None), 'out_channels', None))
        have = shapes[first][1]
        if isinstance(num, int) and isinstance(have, int) and have and have != num:
            what = 'keypoints' if lib.task == 'pose' else 'classes'
            raise ValueError(f'ONNX file {path!r}: its {first!r} has {have} {what}, the '
                             f"config's model {num}: export the file from this config")
    return outputs, in_shape


class RuntimeGraph:
    """An exported ONNX graph in a runtime, called like the PyTorch part it replaces:
    ``graph(x)`` with the ``input`` tensor gives ``{output name: tensor}`` on ``x``'s device
    (a detector's graph also takes each image's unpadded ``(height, width)``).

    Args:
        path: the ONNX file.
        runtime: ``'onnxruntime'`` or ``'openvino'`` (CPU).
        outputs: the graph's output names, in order (:func:`check_onnx`).
        precision: OpenVINO's ``'f32'`` or ``'default'`` (ONNX Runtime runs fp32).
        threads: CPU threads (None: the runtime's default).
        input_dims: the input's dims, ints where the graph fixes them (the light models'
            height and width), to name a misfit.
    """

    def __init__(self, path: str, runtime: str, outputs: Sequence[str],
                 precision: str = 'f32', threads: Optional[int] = None,
                 input_dims: Sequence[Any] = ()) -> None:
        self.path, self.runtime, self.outputs = path, runtime, tuple(outputs)
        self.input_dims = tuple(input_dims)
        self._run, self.precision = make_runner(path, runtime, precision, threads)

    def __call__(self, x: torch.Tensor, image_sizes: Optional[Sequence[Sequence[int]]] = None
                 ) -> Dict[str, torch.Tensor]:
        fixed = [(i, d) for i, d in enumerate(self.input_dims) if isinstance(d, int) and d]
        if len(self.input_dims) == x.dim() and any(x.shape[i] != d for i, d in fixed):
            raise ValueError(f'ONNX file {self.path!r} takes inputs of '
                             f'{_describe(self.input_dims)}, got {tuple(x.shape)}: it was '
                             'exported at a fixed size; resize to it in the test pipeline')
        sizes = None if image_sizes is None else np.asarray(image_sizes, np.int64)
        outs = self._run(x.detach().float().cpu().numpy(), sizes)
        return {name: torch.from_numpy(np.ascontiguousarray(out)).to(x.device)
                for name, out in zip(self.outputs, outs)}

    def __repr__(self) -> str:
        return f'RuntimeGraph({self.path!r}, {self.runtime}, {self.precision})'


def _pass_last(feats: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
    """A head's ``forward`` after the swap: the graph's output, which ``extract_feat`` put last
    in its tuple (the head's ``predict`` post-processes it as its own output)."""
    return feats[-1] if isinstance(feats, (tuple, list)) else feats


def _swap_head_model(model: nn.Module, graph: RuntimeGraph, output: str) -> None:
    """mmpretrain / mmpose: ``extract_feat(inputs)`` -> ``(graph output, )`` and the head's
    ``forward`` passes it on (the exported graph is ``head(extract_feat(x))``)."""
    model.extract_feat = lambda inputs, *args, **kwargs: (graph(inputs)[output], )
    model.head.forward = _pass_last


def _swap_recognizer(model: nn.Module, graph: RuntimeGraph, output: str) -> None:
    """mmaction2: the backbone gives each clip's logits ``(N * clips, K)``, the neck (if any)
    and the head's ``forward`` pass them on to the head's clip averaging."""
    model.backbone.forward = lambda x: graph(x)[output]
    if getattr(model, 'neck', None) is not None:
        model.neck.forward = lambda x, *args, **kwargs: (x, None)
    model.cls_head.forward = _pass_last


def _swap_segmentor(model: nn.Module, graph: RuntimeGraph, output: str) -> None:
    """mmseg: ``encode_decode(inputs, metas)`` -> the graph's ``seg_logits`` (resized to the
    input, as mmseg resizes to ``pad_shape`` / the window)."""
    model.encode_decode = lambda inputs, batch_img_metas: graph(inputs)[output]


def det_instances(dets: torch.Tensor, labels: torch.Tensor, masks: Optional[torch.Tensor],
                  img_meta: dict, mask_thr: float, rescale: bool = True) -> Any:
    """mmdet ``InstanceData`` of one image from the detector graph's outputs, as mmdet's
    Mask R-CNN heads post-process theirs: padding rows (score 0) dropped, boxes clipped to
    ``img_shape`` and (``rescale``) divided by ``scale_factor``, masks pasted onto the
    ``ori_shape`` (else ``img_shape`` scaled) and thresholded at ``mask_thr``
    (:func:`~mmuniformer.deployment.detector.paste_masks`).

    Args:
        dets: ``(N, 5)`` ``[x1, y1, x2, y2, score]`` in input pixels.
        labels: ``(N, )`` int64 class indices.
        masks: ``(N, 28, 28)`` mask probabilities of each detection's class, in its box
            (None: a detector without a mask head).
        img_meta: the data sample's ``img_shape``, ``ori_shape``, ``scale_factor``.
        mask_thr: the config's ``test_cfg.rcnn.mask_thr_binary``.
    """
    from mmengine.structures import InstanceData
    keep = dets[:, 4] > 0
    dets, labels = dets[keep], labels[keep].long()
    bboxes = dets[:, :4].clone()
    img_h, img_w = img_meta['img_shape'][:2]
    bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, img_w)
    bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, img_h)
    scale = bboxes.new_tensor(img_meta.get('scale_factor', (1., 1.))).repeat(2)
    if rescale:
        bboxes = bboxes / scale
        height, width = img_meta['ori_shape'][:2]
    else:
        height, width = (int(np.round(img_meta['ori_shape'][0] * float(scale[1]))),
                         int(np.round(img_meta['ori_shape'][1] * float(scale[0]))))
    result = InstanceData()
    result.bboxes, result.scores, result.labels = bboxes, dets[:, 4], labels
    if masks is not None:
        result.masks = paste_masks(masks[keep], bboxes, height, width, mask_thr)
    return result


def _swap_detector(model: nn.Module, graph: RuntimeGraph, output: str) -> None:
    """mmdet: ``predict(inputs, data_samples, rescale)`` from the graph's dets / labels /
    masks (:func:`det_instances`), added to the data samples as mmdet's detectors do."""
    mask_thr = float(model.roi_head.test_cfg.mask_thr_binary)

    def predict(batch_inputs: torch.Tensor, batch_data_samples: List[Any],
                rescale: bool = True) -> List[Any]:
        out = graph(batch_inputs, [s.metainfo['img_shape'][:2] for s in batch_data_samples])
        masks = out.get('masks')
        results = [det_instances(out['dets'][i], out['labels'][i],
                                 None if masks is None else masks[i],
                                 sample.metainfo, mask_thr, rescale)
                   for i, sample in enumerate(batch_data_samples)]
        return model.add_pred_to_datasample(batch_data_samples, results)
    model.predict = predict


#: task -> how its library's model takes the graph
_SWAPS: Dict[str, Callable[[nn.Module, RuntimeGraph, str], None]] = {
    'cls': _swap_head_model, 'pose': _swap_head_model, 'video': _swap_recognizer,
    'seg': _swap_segmentor, 'det': _swap_detector}


def use_runtime(model: nn.Module, onnx_path: str, runtime: str = 'onnxruntime',
                precision: str = 'f32', threads: Optional[int] = None) -> RuntimeGraph:
    """Make the already-built MM ``model`` compute its network with the ONNX file
    ``onnx_path`` (checked: :func:`check_onnx`) in ``runtime`` instead of PyTorch (see the
    module's docstring for the seam of each task); its data preprocessor, post-processing
    and whatever draws its results stay. Its PyTorch weights are no longer used. Returns the
    :class:`RuntimeGraph` (also ``model.runtime_graph``)."""
    if runtime not in RUNTIMES:
        raise ValueError(f'unknown runtime {runtime!r}; choose one of {RUNTIMES}')
    if runtime == 'onnxruntime' and precision != 'f32':
        raise ValueError(f"precision {precision!r}: ONNX Runtime's CPU provider runs f32 only "
                         "('default' is OpenVINO's own precision)")
    lib = library_of(model)
    if lib is None or lib.task not in _SWAPS:
        raise ValueError(f'{type(model).__name__} is not a model of the task libraries; '
                         'use_runtime takes a classifier, recogniser, segmentor, pose '
                         'estimator or detector')
    outputs, input_dims = check_onnx(onnx_path, lib, model)
    graph = RuntimeGraph(onnx_path, runtime, outputs, precision, threads, input_dims)
    _SWAPS[lib.task](model, graph, lib.export_outputs[0])
    model.runtime_graph = graph
    return graph
