"""Optimizer wrappers of mmuniformer (``OPTIM_WRAPPERS`` registry, scope ``mmuniformer``)."""
