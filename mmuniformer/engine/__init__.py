"""Training-loop extensions registered in mmuniformer's ``HOOKS`` and ``OPTIM_WRAPPERS``
(scope ``mmuniformer``): build them as ``type='mmuniformer.<Name>'`` from any library's config."""
from . import hooks, optim  # noqa: F401  registers the hooks and optimizer wrappers
