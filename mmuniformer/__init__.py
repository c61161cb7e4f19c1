"""mmuniformer: UniFormer for OpenMMLab 2.0.

Importing the package registers its modules in the ``mmuniformer`` registries
(see :mod:`mmuniformer.registry`), reachable from every OpenMMLab 2.0 library as
``type='mmuniformer.<Name>'``; it is the target of
``custom_imports=dict(imports=['mmuniformer'], allow_failed_imports=False)``.
"""
from . import datasets, models  # noqa: F401  registers the modules
from .compat import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

__all__ = ['__version__']
