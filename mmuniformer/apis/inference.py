"""The task libraries' own inferencers on mmuniformer configs.

Every config here loads the plugin through ``custom_imports`` and names its library in
``default_scope``, so each library's inferencer (``ImageClassificationInferencer``,
``ActionRecogInferencer``, ``DetInferencer``, ``MMSegInferencer``, ``MMPoseInferencer``) builds
our models unchanged (the pose configs define ``data_mode`` and ``dataset_type`` at the top
level, where mmpose's inferencers read them); this module only picks the inferencer from the
config's scope (:attr:`mmuniformer.libraries.Library.inferencer`), checks the checkpoint file
and the class names first (:func:`check_checkpoint`, :func:`dataset_meta_from_config`), and
draws array inputs in their true colours (:class:`~mmuniformer.libraries.BGRArrayInputs`).
"""
import copy
import importlib
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log

from ..libraries import BY_SCOPE, BGRArrayInputs, Library

#: default_scope -> task name used by the demos (:attr:`~mmuniformer.libraries.Library.task`)
SCOPE_TASKS: Dict[str, str] = {scope: lib.task for scope, lib in BY_SCOPE.items()}


def register_mmpretrain_models() -> int:
    """Add our image classifiers (``configs/cls/metafile.yml``) to mmpretrain's model hub, so
    that ``mmpretrain.get_model('uniformer_s_in1k', pretrained=CKPT)``, ``list_models`` and
    ``inference_model`` take their names. Returns the number of models added (0 when they
    are there already). Their ``Weights`` are the official Drive pages: pass a downloaded,
    converted checkpoint as ``pretrained``.
    """
    from mmpretrain.apis.model import ModelHub
    root = osp.join(osp.dirname(osp.abspath(__file__)), '..', '.mim')
    metafile = osp.join(root, 'configs', 'cls', 'metafile.yml')
    if not osp.isfile(metafile):
        raise FileNotFoundError(f'{metafile} not found: mmuniformer/.mim must link the '
                                "repository's configs (or be installed with the package)")
    ModelHub._register_mmpretrain_models()  # mmpretrain's own first, as ModelHub.get does
    from modelindex.load_model_index import load
    names = [m.name for m in load(metafile).models]
    if all(n.lower() in ModelHub._models_dict for n in names):
        return 0
    ModelHub.register_model_index(metafile, config_prefix=osp.abspath(root))
    return len(names)


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """Read ``config`` (a path or a :class:`Config`), apply ``cfg_options`` and return it."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def config_library(cfg: Config) -> Library:
    """The library of the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in BY_SCOPE:
        raise ValueError(f'config default_scope {scope!r} is not one of the task libraries '
                         f'{sorted(BY_SCOPE)}; set default_scope in the config')
    return BY_SCOPE[scope]


def config_task(cfg: Config) -> str:
    """``'cls' | 'video' | 'det' | 'seg' | 'pose'`` from the config's ``default_scope``."""
    return config_library(cfg).task


def build_model(cfg: Config) -> nn.Module:
    """``cfg.model`` built from the registry of the config's library (no weights loaded):
    :func:`~mmuniformer.apis.build_model_from_config` for a task library's config."""
    from .model import build_model_from_config
    config_library(cfg)  # a task library's default_scope, or a clear error
    return build_model_from_config(cfg)[0]


def model_num_classes(model: nn.Module) -> Optional[int]:
    """The number of classes a classifier / recognizer / detector / segmentor predicts
    (None for pose estimators, whose outputs are keypoints)."""
    for path in ('head', 'cls_head', 'decode_head', 'roi_head.bbox_head', 'bbox_head'):
        module: Any = model
        for name in path.split('.'):
            module = getattr(module, name, None)
        if isinstance(module, (list, nn.ModuleList)):
            module = module[-1]
        if module is not None and isinstance(getattr(module, 'num_classes', None), int):
            return module.num_classes
    return None


def _dataset_cfg(cfg: Config) -> Optional[dict]:
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset')
        while isinstance(ds, dict) and 'type' in ds and ('dataset' in ds or 'datasets' in ds):
            ds = ds['dataset'] if 'dataset' in ds else ds['datasets'][0]
        if isinstance(ds, dict) and 'type' in ds:
            return ds
    return None


def seeded_palette(num: int) -> List[tuple]:
    """``num`` RGB colours as mmseg's datasets draw classes that come without a palette
    (numpy's legacy generator seeded with 42)."""
    return [tuple(c) for c in np.random.RandomState(42).randint(0, 255, size=(num, 3)).tolist()]


def dataset_meta_from_config(cfg: Config) -> dict:
    """The ``dataset_meta`` that ``mim train`` would save for ``cfg``: the class names (and
    palette, for det and seg; the keypoint meta for pose) of the config's test dataset, from
    its library's dataset class (``METAINFO``: ImageNet-1k, COCO, ADE20K, COCO keypoints, ...)
    and the dataset's own ``metainfo`` / ``classes`` in the config. ``{}`` when the dataset
    names no classes (mmaction2's ``VideoDataset`` and ``RawframeDataset`` read labels as
    numbers: give names with ``--classes``)."""
    from mmengine.registry import init_default_scope
    ds = _dataset_cfg(cfg)
    if ds is None:
        return {}
    task = config_task(cfg)
    scope = cfg.default_scope
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry').DATASETS
    dataset_cls = registry.get(ds['type']) if isinstance(ds['type'], str) else ds['type']
    if dataset_cls is None or not hasattr(dataset_cls, '_load_metainfo'):
        return {}
    meta = dict(dataset_cls._load_metainfo(copy.deepcopy(ds.get('metainfo'))))
    if isinstance(ds.get('classes'), (list, tuple)):
        meta['classes'] = tuple(ds['classes'])
    elif isinstance(ds.get('classes'), str) and osp.isfile(ds['classes']):  # mmpretrain's file
        meta['classes'] = tuple(read_class_names(ds['classes']))
    if task == 'pose':
        return meta
    classes = meta.get('classes')
    if not classes:
        return {}
    out = {'classes': tuple(classes)}
    palette = meta.get('palette')
    if task in ('det', 'seg') and palette is not None and len(palette) >= len(classes):
        out['palette'] = [tuple(int(v) for v in c) for c in palette[:len(classes)]]
    elif task == 'seg':
        out['palette'] = seeded_palette(len(classes))
    return out


def read_class_names(path: str) -> List[str]:
    """Class names from a text file, one per line (blank lines skipped), e.g. mmaction2's
    ``tools/data/kinetics/label_map_k400.txt``."""
    if not osp.isfile(path):
        raise ValueError(f'--classes {path!r} is not a file')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise ValueError(f'--classes {path!r} has no class names (one per line)')
    return names


def check_class_names(classes: Sequence[str], model: nn.Module, source: str) -> None:
    """Raise ``ValueError`` unless ``classes`` has one name per class of ``model``."""
    num = model_num_classes(model)
    if num is None:
        raise ValueError(f'{source}: pose models predict keypoints, not classes; their keypoint '
                         "names come from the config's dataset (metainfo)")
    if len(classes) != num:
        raise ValueError(f'{source} gives {len(classes)} class names; the model predicts {num} '
                         f'classes: give exactly {num} names, one per line')


def check_checkpoint(cfg: Config, checkpoint: str, model: Optional[nn.Module] = None) -> dict:
    """Read ``checkpoint`` (weights-only, checked: :func:`~mmuniformer.checkpoint.
    load_checkpoint_file`) and refuse it with a ``ValueError`` unless it fits the model
    ``cfg`` builds (official layouts, other tasks and archs are named, with the converter
    command). Returns the checkpoint's ``meta`` (``{}`` if it has none)."""
    from ..checkpoint import describe_misfit, load_checkpoint_file
    loaded = load_checkpoint_file(checkpoint)
    model = build_model(cfg) if model is None else model
    problem = describe_misfit(loaded, model, cfg.default_scope, checkpoint)
    if problem:
        config = cfg.filename or 'CONFIG'
        raise ValueError(f'checkpoint {checkpoint!r} does not fit the model of {config}:\n'
                         + problem.replace('--config CONFIG', f'--config {config}'))
    meta = loaded.get('meta')
    return dict(meta) if isinstance(meta, dict) else {}


def checkpoint_dataset_meta(cfg: Config, model: nn.Module,
                            classes_file: Optional[str] = None) -> dict:
    """The ``dataset_meta`` our tools store in a checkpoint: the names of ``classes_file``
    (one per line; their count checked against ``model``), else the config dataset's
    (:func:`dataset_meta_from_config`); ``{}`` when neither names one per model class."""
    meta = dataset_meta_from_config(cfg)
    if classes_file:
        classes = read_class_names(classes_file)
        check_class_names(classes, model, f'--classes {classes_file}')
        out: dict = dict(classes=tuple(classes))
        if config_task(cfg) == 'seg':
            palette = meta.get('palette')
            out['palette'] = (palette if palette and len(palette) == len(classes)
                              else seeded_palette(len(classes)))
        return out
    num = model_num_classes(model)
    if num is not None and len(meta.get('classes', ())) != num:
        return {}
    return meta


def _apply_dataset_meta(inferencer: Any, task: str, meta: dict) -> None:
    """Give the inferencer's model and visualizer ``meta`` (classes, palette)."""
    if task == 'cls':
        inferencer.classes = list(meta['classes'])
        return
    model = inferencer.model
    model.dataset_meta = dict(getattr(model, 'dataset_meta', None) or {}, **meta)
    if task == 'seg':
        # classes and palette only, as mmseg's inferencer keeps them: its visualize passes
        # dataset_meta to the visualizer as keywords, which refuses a runner-saved meta's
        # label_map / reduce_zero_label
        palette = meta.get('palette') or seeded_palette(len(meta['classes']))
        model.dataset_meta = dict(classes=meta['classes'], palette=palette)
        inferencer.visualizer.set_dataset_meta(list(meta['classes']), palette)
    elif task == 'det':
        palette = model.dataset_meta.get('palette')
        if not isinstance(palette, str) and (palette is None
                                              or len(palette) < len(meta['classes'])):
            model.dataset_meta['palette'] = 'random'
        inferencer.visualizer.dataset_meta = model.dataset_meta
    else:
        inferencer.visualizer.dataset_meta = model.dataset_meta


def build_inferencer(config: Union[str, Config], checkpoint: Optional[str],
                     device: str = 'cpu', cfg_options: Optional[dict] = None,
                     classes: Optional[Sequence[str]] = None, optimize: bool = False,
                     dtype: str = 'auto', onnx: Optional[str] = None,
                     runtime: str = 'onnxruntime', precision: str = 'f32',
                     threads: Optional[int] = None, **kwargs: Any) -> Any:
    """The config's library inferencer with ``checkpoint`` loaded, checked and named; with
    ``onnx``, its network runs as that exported graph in ``runtime``.

    The checkpoint file is read weights-only and must fit the model (else a ``ValueError``
    says what the file is and how to convert it: :func:`check_checkpoint`). Class names:
    ``classes`` if given (one per model class, checked), else the checkpoint's
    ``dataset_meta``, else the config dataset's (:func:`dataset_meta_from_config`). Array
    inputs (BGR, as OpenCV reads them) are drawn in their true colours.

    Args:
        config: config path or :class:`Config`.
        checkpoint: checkpoint of the whole model (mmengine format); None keeps the
            initial weights (the inferencers then warn).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:0'`` ...
        cfg_options: overrides merged into the config.
        classes: class names to draw (not for pose).
        optimize: run the inferencer's model through :func:`mmuniformer.apis.optimize`
            (folds once, backbone weights in ``dtype``; outputs within its precision).
        dtype: ``optimize``'s dtype: ``'auto'``, ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        onnx: an ONNX file of the config's whole model (``tools/deployment/pytorch2onnx.py``)
            that replaces the PyTorch network (:func:`mmuniformer.deployment.use_runtime`;
            checked before the inferencer is built); the checkpoint then only gives the
            class names (``dataset_meta``) and may be None.
        runtime: ``'onnxruntime'`` or ``'openvino'`` (CPU), for ``onnx``.
        precision: OpenVINO's ``'f32'`` or ``'default'`` (its plugin's own), for ``onnx``.
        threads: the runtime's CPU threads (None: its default, all cores).
        **kwargs: passed to the inferencer (e.g. ``det_model`` for pose: default
            ``'whole_image'``, a box per image unless ``bboxes`` are given per call).

    Returns:
        ``ImageClassificationInferencer`` (cls), ``ActionRecogInferencer`` (video),
        ``DetInferencer`` (det), ``MMSegInferencer`` (seg) or ``MMPoseInferencer`` (pose).
    """
    if optimize and onnx:
        raise ValueError('optimize is for the PyTorch model; an ONNX graph (onnx) runs in '
                         'its runtime: give one of them')
    if optimize:
        from .optimize import optimize as optimize_model
        inferencer = build_inferencer(config, checkpoint, device, cfg_options, classes,
                                      **kwargs)
        # MMPoseInferencer holds its pose model in a Pose2DInferencer
        optimize_model(getattr(inferencer, 'inferencer', inferencer).model, dtype)
        return inferencer
    cfg = load_config(config, cfg_options)
    lib = config_library(cfg)
    task = lib.task
    model = build_model(cfg)
    meta = check_checkpoint(cfg, checkpoint, model) if checkpoint else {}
    if onnx:
        from ..deployment import check_onnx
        check_onnx(onnx, lib, model)  # before the (slower) inferencer build
    if classes is not None:
        check_class_names(classes, model, 'classes')
        dataset_meta: dict = {'classes': tuple(classes)}
    elif task != 'pose':
        dataset_meta = dict(meta.get('dataset_meta') or {}) or dataset_meta_from_config(cfg)
        num = model_num_classes(model)
        if dataset_meta.get('classes') and len(dataset_meta['classes']) != num:
            print_log(f"{len(dataset_meta['classes'])} class names in the checkpoint / config "
                      f'dataset for a model of {num} classes: drawing class indices',
                      logger='current', level=30)
            dataset_meta = {}
    else:
        dataset_meta = {}
    del model
    with warnings.catch_warnings():
        if onnx:  # the runtime replaces the weights: no 'randomly initialized model' warning
            warnings.filterwarnings('ignore', r'(?i).*(checkpoint|weights).*', UserWarning)
        inferencer = lib.inferencer(cfg, checkpoint, device, **kwargs)
    if dataset_meta.get('classes'):
        _apply_dataset_meta(inferencer, task, dataset_meta)
    if onnx:
        from ..deployment import use_runtime
        # MMPoseInferencer holds its pose model in a Pose2DInferencer
        graph = use_runtime(getattr(inferencer, 'inferencer', inferencer).model, onnx, runtime,
                            precision, threads)
        print_log(f'the network runs as {onnx} in {runtime} ({graph.precision}); the PyTorch '
                  'weights are not used', logger='current')
    return inferencer
