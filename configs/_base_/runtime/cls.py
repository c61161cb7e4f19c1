# mmpretrain's default runtime (hooks, visualiser, logging, environment) with mmuniformer's
# crash-safe checkpoint hook: AtomicCheckpointHook takes mmengine's CheckpointHook arguments and
# never leaves a half-written checkpoint. Every cls config inherits this file instead of
# mmpretrain's default_runtime.py.
_base_ = ['mmpretrain::_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(type='mmuniformer.AtomicCheckpointHook'))
