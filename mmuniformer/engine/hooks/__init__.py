"""Hooks of mmuniformer (``HOOKS`` registry, scope ``mmuniformer``)."""
from .atomic_checkpoint import AtomicCheckpointHook
from .epoch_seed import EpochSeedHook, epoch_seeds, seed_worker

__all__ = ['AtomicCheckpointHook', 'EpochSeedHook', 'epoch_seeds', 'seed_worker']
