"""mmuniformer's registries.

Our modules live in registries of scope ``mmuniformer`` whose parents are mmengine's
root registries. Every OpenMMLab 2.0 library's registry shares that root, so any of
them builds our modules by their scoped name, e.g. ``dict(type='mmuniformer.UniFormer')``
inside an mmdet, mmseg, mmaction2, mmpretrain or mmpose config. Nothing is written into
the libraries' own registries, so mmaction2's built-in ``UniFormer`` stays what it is.

Hints for names written without the scope: :func:`register_scope_hints` (called on import)
puts a hint for each of our backbone names into mmengine's root registry, which a library's
registry searches last, so ``type='UniFormer'`` in an mmdet, mmseg, mmpose or mmpretrain
config raises a ``KeyError`` that says ``mmuniformer.UniFormer`` instead of a bare one;
:func:`check_model_config` (run where our tools and APIs build models) also explains our
arguments reaching mmaction2's own ``UniFormer``.

The backbones need only torch, mmengine and mmcv and are registered by ``import
mmuniformer``. Modules that extend one library (mmpretrain heads and transforms,
mmaction2 heads, ...) are imported by the registry on the first look-up made while
that library is in use (imported), so a user of one library never imports another.
"""
import inspect
import sys
from importlib import import_module
from typing import Any, Dict, Iterator, List, Optional, Sequence

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

from .libraries import LIBRARIES


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


#: modules that register into MODELS / TRANSFORMS, per library they extend
MODEL_EXTENSIONS: Dict[str, Sequence[str]] = {
    lib.scope: lib.model_modules for lib in LIBRARIES if lib.model_modules}
TRANSFORM_EXTENSIONS: Dict[str, Sequence[str]] = {
    lib.scope: lib.transform_modules for lib in LIBRARIES if lib.transform_modules}
#: modules that register into DATASETS, per library they extend
DATASET_EXTENSIONS: Dict[str, Sequence[str]] = {
    lib.scope: lib.dataset_modules for lib in LIBRARIES if lib.dataset_modules}

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
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor',
                                      parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      scope='mmuniformer', locations=['mmuniformer.engine'])


# ----------------------------------------------------------------------------- hints
class RegistryHint(KeyError):
    """The registry's ``KeyError`` for one of our names written without its scope, with the
    fix in the message (shown as text, not as a quoted key)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def _unscoped_hint(name: str) -> str:
    return (f"type='{name}' is not in this library's model registry: mmuniformer registers "
            f"its models in its own scope, so write type='mmuniformer.{name}' (and keep "
            "custom_imports=dict(imports=['mmuniformer'], allow_failed_imports=False))")


def _make_hint(name: str) -> Any:
    def hint(*args: Any, **kwargs: Any) -> None:
        raise RegistryHint(_unscoped_hint(name))
    hint.__name__ = hint.__qualname__ = name
    hint.__doc__ = f'Hint for an unscoped {name!r}: raises a KeyError naming mmuniformer.{name}.'
    return hint


def register_scope_hints(names: Sequence[str]) -> List[str]:
    """Put a hint under each of ``names`` into mmengine's root ``MODELS``, where a library's
    registry looks last, for a name that it and the root lack: building the unscoped name then
    raises :class:`RegistryHint` (a ``KeyError``, as the registry's own) that names
    ``mmuniformer.<name>``. A library with its own class of that name (mmaction2's
    ``UniFormer``) finds it first and never sees the hint. Returns the names added."""
    added = []
    for name in names:
        if name not in MMENGINE_MODELS.module_dict:
            MMENGINE_MODELS.register_module(name=name, module=_make_hint(name))
            added.append(name)
    return added


def _is_hint(obj: Any) -> bool:
    return getattr(obj, '__module__', None) == __name__ and callable(obj) \
        and not isinstance(obj, type)


def _type_dicts(cfg: Any) -> Iterator[dict]:
    """Every dict with a ``type`` inside a (nested) config."""
    if isinstance(cfg, dict):
        if isinstance(cfg.get('type'), str):
            yield cfg
        for value in cfg.values():
            yield from _type_dicts(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            yield from _type_dicts(value)


def _accepted_arguments(obj: Any) -> Optional[set]:
    """Keyword arguments ``obj`` takes (None: any, it has ``**kwargs``)."""
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}


def check_model_config(model_cfg: Any, registry: Registry) -> None:
    """Check the unscoped names of our models in a model config before ``registry`` (the
    config's library's ``MODELS``) builds it.

    * a name of ours that ``registry`` lacks: :class:`RegistryHint` suggesting
      ``mmuniformer.<name>``;
    * a name that ``registry`` resolves to a class of another package (mmaction2's own
      ``UniFormer``) given arguments that this class does not take but ours does: a
      ``TypeError`` naming both classes and the scoped name.
    """
    MODELS.import_from_location()
    ours = MODELS.module_dict
    for item in _type_dicts(model_cfg):
        name = item['type']
        if '.' in name or name not in ours:
            continue
        found = registry.get(name)
        if found is None or _is_hint(found):
            raise RegistryHint(_unscoped_hint(name))
        if found is ours[name]:
            continue
        theirs, mine = _accepted_arguments(found), _accepted_arguments(ours[name])
        given = set(item) - {'type'}
        if theirs is None:
            continue
        foreign = sorted(given - theirs)
        if foreign and (mine is None or not set(foreign) - mine):
            raise TypeError(
                f"type='{name}' in a {registry.scope} config builds {found.__module__}."
                f"{found.__qualname__} ({registry.scope}'s own {name}), which does not take "
                f'{foreign}; these are arguments of mmuniformer.{name} '
                f'({ours[name].__module__}.{ours[name].__qualname__}): write '
                f"type='mmuniformer.{name}' to build mmuniformer's backbone")
