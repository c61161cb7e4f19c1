"""Hooks of mmuniformer (``HOOKS`` registry, scope ``mmuniformer``)."""
