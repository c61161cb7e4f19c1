"""Hooks of mmuniformer (``HOOKS`` registry, scope ``mmuniformer``)."""
from .atomic_checkpoint import AtomicCheckpointHook
from .check_datasets import CheckDatasetsHook, check_dataset
from .epoch_seed import EpochSeedHook, epoch_seeds, seed_worker

__all__ = ['AtomicCheckpointHook', 'CheckDatasetsHook', 'EpochSeedHook', 'check_dataset',
           'epoch_seeds', 'seed_worker']
