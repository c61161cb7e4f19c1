"""The task libraries' own inferencers on mmuniformer configs.

Every config here loads the plugin through ``custom_imports`` and names its library in
``default_scope``, so each library's inferencer (``ImageClassificationInferencer``,
``ActionRecogInferencer``, ``DetInferencer``, ``MMSegInferencer``, ``MMPoseInferencer``) builds
our models unchanged (the pose configs define ``data_mode`` and ``dataset_type`` at the top
level, where mmpose's inferencers read them); this module only picks the inferencer from the
config's scope.
"""
from typing import Any, Dict, Optional, Union

from mmengine.config import Config

#: default_scope -> task name used by the demos
SCOPE_TASKS: Dict[str, str] = {
    'mmpretrain': 'cls',
    'mmaction': 'video',
    'mmdet': 'det',
    'mmseg': 'seg',
    'mmpose': 'pose',
}


def register_mmpretrain_models() -> int:
    """Add our image classifiers (``configs/cls/metafile.yml``) to mmpretrain's model hub, so
    that ``mmpretrain.get_model('uniformer_s_in1k', pretrained=CKPT)``, ``list_models`` and
    ``inference_model`` take their names. Returns the number of models added (0 when they
    are there already). Their ``Weights`` are the official Drive pages: pass a downloaded,
    converted checkpoint as ``pretrained``.
    """
    import os.path as osp

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


def config_task(cfg: Config) -> str:
    """``'cls' | 'video' | 'det' | 'seg' | 'pose'`` from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in SCOPE_TASKS:
        raise ValueError(f'config default_scope {scope!r} is not one of the task libraries '
                         f'{sorted(SCOPE_TASKS)}; set default_scope in the config')
    return SCOPE_TASKS[scope]


def build_inferencer(config: Union[str, Config], checkpoint: Optional[str],
                     device: str = 'cpu', cfg_options: Optional[dict] = None,
                     optimize: bool = False, dtype: str = 'auto', **kwargs: Any) -> Any:
    """The config's library inferencer with ``checkpoint`` loaded.

    Args:
        config: config path or :class:`Config`.
        checkpoint: checkpoint of the whole model (mmengine format); None keeps the
            initial weights (the inferencers then warn).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:0'`` ...
        cfg_options: overrides merged into the config.
        optimize: run the inferencer's model through :func:`mmuniformer.apis.optimize`
            (folds once, backbone weights in ``dtype``; outputs within its precision).
        dtype: ``optimize``'s dtype: ``'auto'``, ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        **kwargs: passed to the inferencer (e.g. ``det_model`` for pose: default
            ``'whole_image'``, a box per image unless ``bboxes`` are given per call).

    Returns:
        ``ImageClassificationInferencer`` (cls), ``ActionRecogInferencer`` (video),
        ``DetInferencer`` (det), ``MMSegInferencer`` (seg) or ``MMPoseInferencer`` (pose).
    """
    if optimize:
        from .optimize import optimize as optimize_model
        inferencer = build_inferencer(config, checkpoint, device, cfg_options, **kwargs)
        # MMPoseInferencer holds its pose model in a Pose2DInferencer
        optimize_model(getattr(inferencer, 'inferencer', inferencer).model, dtype)
        return inferencer
    cfg = load_config(config, cfg_options)
    task = config_task(cfg)
    if task == 'cls':
        from mmpretrain.apis import ImageClassificationInferencer
        return ImageClassificationInferencer(cfg, pretrained=checkpoint or False, device=device,
                                             **kwargs)
    if task == 'video':
        from mmaction.apis.inferencers import ActionRecogInferencer
        return ActionRecogInferencer(cfg, weights=checkpoint, device=device, **kwargs)
    if task == 'det':
        from mmdet.apis import DetInferencer
        return DetInferencer(cfg, weights=checkpoint, device=device, show_progress=False,
                             **kwargs)
    if task == 'seg':
        from mmseg.apis import MMSegInferencer
        return MMSegInferencer(cfg, weights=checkpoint, device=device, **kwargs)
    from mmpose.apis import MMPoseInferencer
    kwargs.setdefault('det_model', 'whole_image')
    return MMPoseInferencer(pose2d=cfg, pose2d_weights=checkpoint, device=device,
                            show_progress=False, **kwargs)
