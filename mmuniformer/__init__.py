"""mmuniformer: UniFormer for OpenMMLab 2.0.

Importing the package registers the backbones in the ``mmuniformer`` registries (see
:mod:`mmuniformer.registry`), reachable from every OpenMMLab 2.0 library as
``type='mmuniformer.<Name>'``; it is the target of
``custom_imports=dict(imports=['mmuniformer'], allow_failed_imports=False)``. Modules
that extend one library are registered when that library is in use. An unscoped
``type='UniFormer'`` in another library's config gets a hint naming
``mmuniformer.UniFormer`` (:func:`mmuniformer.registry.register_scope_hints`). It also lets
torch >= 2.6 load mmengine's own checkpoints with ``weights_only=True`` (see
:mod:`mmuniformer.compat`).
"""
from . import engine, models  # noqa: F401  registers the hooks, optimizer wrappers and backbones
from .compat import allow_mmengine_checkpoints
from .registry import MODELS, register_scope_hints
from .version import __version__

allow_mmengine_checkpoints()
register_scope_hints(sorted(MODELS.module_dict))  # type='UniFormer' without the scope: a hint

__all__ = ['__version__']
