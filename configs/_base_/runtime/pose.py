# mmpose's default runtime (hooks, visualiser, logging, environment) with mmuniformer's
# crash-safe checkpoint hook: AtomicCheckpointHook takes mmengine's CheckpointHook arguments and
# never leaves a half-written checkpoint. Every pose config inherits this file (through
# ../schedules/pose_adamw_210e.py or directly) instead of mmpose's default_runtime.py.
_base_ = ['mmpose::_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(type='mmuniformer.AtomicCheckpointHook'))
