"""mmuniformer's registries.

Our modules live in registries of scope ``mmuniformer`` whose parents are mmengine's
root registries. Every OpenMMLab 2.0 library's registry shares that root, so any of
them builds our modules by their scoped name, e.g. ``dict(type='mmuniformer.UniFormer')``
inside an mmdet, mmseg, mmaction2, mmpretrain or mmpose config. Nothing is written into
the libraries' own registries, so mmaction2's built-in ``UniFormer`` stays what it is.

The backbones need only torch, mmengine and mmcv and are registered by ``import
mmuniformer``. Modules that extend one library (mmpretrain heads and transforms,
mmaction2 heads, ...) are imported by the registry on the first look-up made while
that library is in use (imported), so a user of one library never imports another.
"""
import sys
from importlib import import_module
from typing import Any, Dict, Sequence

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry


class PluginRegistry(Registry):
    """A :class:`~mmengine.registry.Registry` whose ``extensions`` (library package ->
    modules) are imported at look-up time once that library has been imported."""

    def __init__(self, *args: Any, extensions: Dict[str, Sequence[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions = {lib: tuple(mods) for lib, mods in extensions.items()}

    def import_from_location(self) -> None:
        super().import_from_location()
        for library, modules in self.extensions.items():
            if sys.modules.get(library) is not None:
                for module in modules:
                    if module not in sys.modules:
                        import_module(module)


#: modules that register into MODELS, per library they extend
MODEL_EXTENSIONS: Dict[str, Sequence[str]] = {
    'mmpretrain': ('mmuniformer.models.heads', 'mmuniformer.models.classifiers'),
    'mmaction': ('mmuniformer.models.video_heads', ),
}
#: modules that register into TRANSFORMS, per library they extend
TRANSFORM_EXTENSIONS: Dict[str, Sequence[str]] = {
    'mmpretrain': ('mmuniformer.datasets.token_label', ),
    'mmaction': ('mmuniformer.datasets.repeat_aug', ),
}
#: modules that register into DATASETS, per library they extend
DATASET_EXTENSIONS: Dict[str, Sequence[str]] = {
    'mmdet': ('mmuniformer.datasets.coco', ),
}

MODELS = PluginRegistry('model', parent=MMENGINE_MODELS, scope='mmuniformer',
                        locations=['mmuniformer.models'], extensions=MODEL_EXTENSIONS)
TRANSFORMS = PluginRegistry('transform', parent=MMENGINE_TRANSFORMS, scope='mmuniformer',
                            locations=['mmuniformer.datasets'], extensions=TRANSFORM_EXTENSIONS)
DATASETS = PluginRegistry('dataset', parent=MMENGINE_DATASETS, scope='mmuniformer',
                          locations=['mmuniformer.datasets'], extensions=DATASET_EXTENSIONS)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='mmuniformer',
                 locations=['mmuniformer.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='mmuniformer',
                          locations=['mmuniformer.engine'])
