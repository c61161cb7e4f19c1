"""The one table of what differs between the five OpenMMLab 2.0 libraries we plug into.

Every per-library fact lives in one :class:`Library` row of :data:`LIBRARIES`: the scope
(``default_scope`` and import name), the name ``pip``/``mim`` use, our modules that register
into its registries, the head prefixes of the official checkpoints of its task, the forward
that gives tensors (and class logits), its inferencer, the part the ONNX exporter takes by
default and where its packaged train/test scripts are. The registry, the checkpoint mapping,
the inference API, Grad-CAM, the FLOP counter, the benchmark, the ONNX exporter and the
launchers ask this table; no other module spells a library's name as a string.

Models are matched to their library by the first class in their MRO that comes from one of
the libraries (our ``TokenLabelClassifier`` is an mmpretrain ``ImageClassifier``).
"""
import importlib.util
import inspect
import os.path as osp
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Pattern, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

ForwardFn = Callable[[nn.Module, torch.Tensor], Any]
#: our own scope (models built from ``mmuniformer.registry``)
OWN_SCOPE = 'mmuniformer'


def flatten_tensors(out: Any) -> Tuple[torch.Tensor, ...]:
    """Every tensor of a (nested) output of tuples, lists and dicts, in order, as a flat
    tuple (what tracing, exporting and summing a loss need)."""
    if isinstance(out, torch.Tensor):
        return (out, )
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return tuple(t for item in out for t in flatten_tensors(item))
    return ()


@dataclass(frozen=True)
class Forward:
    """A forward of a model on one input ``x`` (``(B, C, H, W)`` or ``(B, C, T, H, W)``):
    ``fn(model, x)``; ``needs`` names what the model must have for it (``'mode'``: a
    ``forward(..., mode=...)``, else an attribute)."""
    description: str
    fn: ForwardFn
    needs: str = ''

    def applies(self, model: nn.Module) -> bool:
        if self.needs == 'mode':
            try:
                return 'mode' in inspect.signature(model.forward).parameters
            except (TypeError, ValueError):
                return False
        if self.needs == 'backbone':
            return isinstance(getattr(model, 'backbone', None), nn.Module)
        return not self.needs or hasattr(model, self.needs)


def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _det_meta_forward(model: nn.Module, x: torch.Tensor) -> Any:
    """``model(x, data_samples, mode='tensor')`` with one synthetic image meta per image
    (two-stage detectors need it for their proposals)."""
    from mmdet.structures import DetDataSample
    h, w = x.shape[-2:]
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1., 1.), img_id=0)
    return model(x, [DetDataSample(metainfo=meta) for _ in range(x.shape[0])], mode='tensor')


MODE_TENSOR = Forward("model(inputs, mode='tensor')",
                      lambda m, x: m(x, data_samples=None, mode='tensor'), 'mode')
EXTRACT_FEAT = Forward('model.extract_feat(inputs)', lambda m, x: m.extract_feat(x),
                       'extract_feat')
BACKBONE = Forward('model.backbone(inputs)', lambda m, x: m.backbone(x), 'backbone')
PLAIN = Forward('model(inputs)', lambda m, x: m(x))
#: mmaction2 recognisers take one clip axis: ``(B, 1, C, T, H, W)``
CLIP_HEAD = Forward("model.extract_feat(inputs, stage='head') (backbone + neck + cls_head)",
                    lambda m, x: m.extract_feat(x.unsqueeze(1), stage='head')[0],
                    'extract_feat')
CLIP_FEAT = Forward('model.extract_feat(inputs) (backbone + neck)',
                    lambda m, x: m.extract_feat(x.unsqueeze(1))[0], 'extract_feat')
DET_META = Forward("model(inputs, data_samples, mode='tensor') with a synthetic image meta",
                   _det_meta_forward, 'mode')


class BGRArrayInputs:
    """Mixin for mmpretrain's, mmdet's and mmseg's inferencers: their models read an array
    input as BGR (as OpenCV loads it), but their ``visualize`` draws it as if it were RGB,
    so every array input came out with red and blue swapped. Arrays are flipped to RGB for
    drawing only; paths are drawn as before."""

    def visualize(self, inputs: Sequence[Any], preds: Any, *args: Any, **kwargs: Any) -> Any:
        inputs = [np.ascontiguousarray(x[..., ::-1]) if isinstance(x, np.ndarray) else x
                  for x in inputs]
        return super().visualize(inputs, preds, *args, **kwargs)


def _with_bgr_arrays(inferencer_cls: type) -> type:
    """``inferencer_cls`` with :class:`BGRArrayInputs` mixed in (same name and arguments)."""
    return type(inferencer_cls.__name__, (BGRArrayInputs, inferencer_cls),
                {'__doc__': inferencer_cls.__doc__, '__module__': __name__})


def _cls_inferencer(cfg: Any, checkpoint: Optional[str], device: str, **kwargs: Any) -> Any:
    from mmpretrain.apis import ImageClassificationInferencer
    return _with_bgr_arrays(ImageClassificationInferencer)(
        cfg, pretrained=checkpoint or False, device=device, **kwargs)


def _video_inferencer(cfg: Any, checkpoint: Optional[str], device: str, **kwargs: Any) -> Any:
    from mmaction.apis.inferencers import ActionRecogInferencer
    return ActionRecogInferencer(cfg, weights=checkpoint, device=device, **kwargs)


def _det_inferencer(cfg: Any, checkpoint: Optional[str], device: str, **kwargs: Any) -> Any:
    from mmdet.apis import DetInferencer
    return _with_bgr_arrays(DetInferencer)(cfg, weights=checkpoint, device=device,
                                           show_progress=False, **kwargs)


def _seg_inferencer(cfg: Any, checkpoint: Optional[str], device: str, **kwargs: Any) -> Any:
    from mmseg.apis import MMSegInferencer
    return _with_bgr_arrays(MMSegInferencer)(cfg, weights=checkpoint, device=device, **kwargs)


def _pose_inferencer(cfg: Any, checkpoint: Optional[str], device: str, **kwargs: Any) -> Any:
    from mmpose.apis import MMPoseInferencer
    kwargs.setdefault('det_model', 'whole_image')  # a box per image unless bboxes are given
    return MMPoseInferencer(pose2d=cfg, pose2d_weights=checkpoint, device=device,
                            show_progress=False, **kwargs)


@dataclass(frozen=True)
class Library:
    """What one OpenMMLab 2.0 library needs from us.

    Attributes:
        scope: ``default_scope`` of its configs, also its import name.
        package: its name for ``pip`` and ``mim`` (``mim train PACKAGE CONFIG``).
        task: our short task name (``cls``, ``video``, ``det``, ``seg``, ``pose``).
        model_modules / transform_modules / dataset_modules: our modules that register into
            ``MODELS`` / ``TRANSFORMS`` / ``DATASETS`` and need this library (imported once it
            is in use).
        head_prefixes: ``(official prefix, our prefix)`` of the heads of its task's models
            in the official checkpoints (backbone keys map alike for every library).
        unused_official_keys: official keys its released models hold but never use.
        dense_checkpoint: its official checkpoints keep the backbone under ``backbone.``.
        forwards: tensor forwards to try, most complete first (the backbone comes after).
        logits: the forward giving class logits ``(B, K)`` (classifiers / recognisers).
        export_part: what the ONNX exporter takes by default (``--part auto``): the whole
            model of its task as far as ONNX expresses it (the exporter's ``PART_SPECS``).
        export_outputs: the outputs of that whole-model graph that
            :mod:`mmuniformer.deployment.runtime` reads (in this order).
        inferencer: ``fn(cfg, checkpoint, device, **kwargs)`` -> the library's inferencer.
        model_head_prefixes: key prefixes of the heads of our whole models of this library
            (after conversion), to tell another task's checkpoint.
        description: what its models are, for messages.
    """
    scope: str
    package: str
    task: str
    model_modules: Tuple[str, ...] = ()
    transform_modules: Tuple[str, ...] = ()
    dataset_modules: Tuple[str, ...] = ()
    head_prefixes: Tuple[Tuple[str, str], ...] = ()
    unused_official_keys: Optional[Pattern] = None
    dense_checkpoint: bool = True
    forwards: Tuple[Forward, ...] = (MODE_TENSOR, EXTRACT_FEAT)
    logits: Optional[ForwardFn] = None
    export_part: str = 'backbone'
    export_outputs: Tuple[str, ...] = ()
    inferencer: Optional[Callable[..., Any]] = None
    model_head_prefixes: Tuple[str, ...] = ()
    description: str = ''

    def script(self, kind: str) -> str:
        """Path of the packaged ``kind`` (``'train'``/``'test'``) script that ``mim`` runs,
        ``<package>/.mim/tools/<kind>.py``; ``FileNotFoundError`` saying what is missing."""
        spec = importlib.util.find_spec(self.scope)
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f'{self.package} is not installed (pip install it, or run '
                                    'tools/setup_env.sh)')
        path = osp.join(osp.dirname(spec.origin), '.mim', 'tools', f'{kind}.py')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{self.package} has no packaged {kind} script at {path}')
        return path


LIBRARIES: Tuple[Library, ...] = (
    Library(
        'mmpretrain', 'mmpretrain', 'cls',
        model_modules=('mmuniformer.models.heads', 'mmuniformer.models.classifiers'),
        transform_modules=('mmuniformer.datasets.token_label', ),
        # image_classification/models/uniformer*.py, token_labeling/tlt/models/uniformer.py
        head_prefixes=(('head.', 'head.fc.'), ('aux_head.', 'head.aux_fc.'),
                       ('head_cls.', 'head.score_fc.')),
        dense_checkpoint=False,
        logits=lambda m, x: _first(m(x, mode='tensor')),
        export_part='classifier', export_outputs=('logits', ),
        inferencer=_cls_inferencer,
        model_head_prefixes=('head.fc.', 'head.aux_fc.', 'head.score_fc.'),
        description='an image classifier (mmpretrain)'),
    Library(
        'mmaction', 'mmaction2', 'video',
        model_modules=('mmuniformer.models.video_heads', ),
        transform_modules=('mmuniformer.datasets.repeat_aug', ),
        # video_classification/slowfast/models/uniformer*.py; mmaction2's converted UniFormer
        head_prefixes=(('head.', 'cls_head.fc_cls.'), ('head_cls.', 'cls_head.score_fc.'),
                       ('cls_head.', 'cls_head.')),
        dense_checkpoint=False, forwards=(CLIP_HEAD, CLIP_FEAT), logits=CLIP_HEAD.fn,
        export_part='recognizer', export_outputs=('logits', ), inferencer=_video_inferencer,
        model_head_prefixes=('cls_head.', ), description='a video recognizer (mmaction2)'),
    Library(
        'mmdet', 'mmdet', 'det',
        dataset_modules=('mmuniformer.datasets.coco', ),
        # object_detection/ (mmdet 2.x): FPN, RPN and RoI heads are keyed as in mmdet 3.x
        head_prefixes=(('neck.', 'neck.'), ('rpn_head.', 'rpn_head.'),
                       ('roi_head.', 'roi_head.')),
        forwards=(MODE_TENSOR, DET_META, EXTRACT_FEAT), export_part='detector',
        export_outputs=('dets', 'labels', 'masks'), inferencer=_det_inferencer,
        model_head_prefixes=('rpn_head.', 'roi_head.'),
        description='a detector (mmdet)'),
    Library(
        'mmseg', 'mmsegmentation', 'seg',
        # semantic_segmentation/ (mmseg 0.x): keyed as in mmseg 1.x
        head_prefixes=(('neck.', 'neck.'), ('decode_head.', 'decode_head.'),
                       ('auxiliary_head.', 'auxiliary_head.')),
        export_part='segmentor', export_outputs=('seg_logits', ), inferencer=_seg_inferencer,
        model_head_prefixes=('decode_head.', 'auxiliary_head.'), description='a segmentor (mmseg)'),
    Library(
        'mmpose', 'mmpose', 'pose',
        # pose_estimation/ (mmpose 0.x TopDownSimpleHead: ``deconv_layers.{0,1,3,4,6,7}``,
        # ``final_layer``) -> mmpose 1.x HeatmapHead, same module names and indices;
        # checkpoints of mmpose 1.x's projects/uniformer key the head as HeatmapHead already
        head_prefixes=(('keypoint_head.', 'head.'), ('head.', 'head.')),
        # the pose backbones (official and mmpose's projects/uniformer) build the LayerNorms
        # of all four stages and feed only stage 4's (``norm4``) to the head
        unused_official_keys=re.compile(r'^backbone\.norm[123]\.'),
        export_part='pose', export_outputs=('heatmaps', ), inferencer=_pose_inferencer,
        model_head_prefixes=('head.final_layer.', 'head.deconv_layers.', 'keypoint_head.'),
        description='a pose estimator (mmpose)'),
)
#: scope -> row
BY_SCOPE: Dict[str, Library] = {lib.scope: lib for lib in LIBRARIES}


def library(name: str) -> Library:
    """The row of a library by scope (``mmaction``) or package name (``mmaction2``);
    ``KeyError`` listing the accepted names."""
    for lib in LIBRARIES:
        if name in (lib.scope, lib.package):
            return lib
    names = sorted({n for lib in LIBRARIES for n in (lib.scope, lib.package)})
    raise KeyError(f'unknown library {name!r}; accepted: {", ".join(names)}')


def library_of(model: nn.Module) -> Optional[Library]:
    """The library ``model`` belongs to: that of the first class of its MRO defined in one
    of the libraries; None for anything else (a bare backbone, a plain module)."""
    for cls in type(model).__mro__:
        lib = BY_SCOPE.get(cls.__module__.split('.')[0])
        if lib is not None:
            return lib
    return None


def registry_module(scope: str) -> str:
    """The module holding the registries of ``scope`` (a library's or ours)."""
    if scope != OWN_SCOPE and scope not in BY_SCOPE:
        raise KeyError(f'unknown scope {scope!r}; accepted: {OWN_SCOPE}, '
                       f'{", ".join(BY_SCOPE)}')
    return f'{scope}.registry'


def forward_candidates(model: nn.Module) -> List[Forward]:
    """The tensor forwards of ``model`` to try, most complete first: its library's
    (:attr:`Library.forwards`, else ``mode='tensor'`` and ``extract_feat``), then
    ``model.backbone``; ``model(x)`` when none applies."""
    lib = library_of(model)
    own = lib.forwards if lib is not None else (MODE_TENSOR, EXTRACT_FEAT)
    cands = [f for f in own + (BACKBONE, ) if f.applies(model)]
    return cands or [PLAIN]


def class_logits(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Logits ``(B, K)`` of a classifier (``(B, 3, H, W)``) or a recogniser
    (``(B, 3, T, H, W)``, one clip each); ``ValueError`` for other models."""
    lib = library_of(model)
    if lib is None or lib.logits is None:
        kinds = ', '.join(f'{l.task} ({l.package})' for l in LIBRARIES if l.logits is not None)
        raise ValueError(f'class logits come from the models of {kinds}; '
                         f'{type(model).__name__} is from {type(model).__module__}')
    return lib.logits(model, inputs)
