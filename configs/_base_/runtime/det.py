# mmdet's default runtime (hooks, visualiser, logging, environment) with mmuniformer's
# crash-safe checkpoint hook: AtomicCheckpointHook takes mmengine's CheckpointHook arguments and
# never leaves a half-written checkpoint. Every det config inherits this file instead of
# mmdet's default_runtime.py.
_base_ = ['mmdet::_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(type='mmuniformer.AtomicCheckpointHook'))
