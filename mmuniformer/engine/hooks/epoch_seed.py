"""Randomness that a resumed run reproduces: every epoch starts from seeds that are a
function of the run's seed, the epoch, the rank and the data worker.

mmengine seeds the main process once, when the Runner is built, and every data worker
from the run's seed and the worker's index only (``mmengine.dataset.worker_init_fn``).
A run resumed at epoch ``e`` therefore replays the random numbers of epoch 0 (flips,
crops, frame offsets, dropout, drop path) where the uninterrupted run drew fresh ones,
and ends with other weights. :class:`EpochSeedHook` reseeds the main process at the start
of every training epoch and hands the data workers, which the DataLoader starts anew each
epoch, seeds of that epoch. Epoch ``e`` then draws the same numbers whether the run went
through epochs ``0 .. e-1`` or was resumed from the checkpoint saved after them.

Seeding per epoch is preferred over saving random states in the checkpoint: the states
of data workers live in other processes and cannot be collected at checkpoint time.
"""
import logging
import random
from functools import partial
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmuniformer.registry import HOOKS

#: stream tag of the main process; data worker ``w`` draws from stream ``1 + w``
_MAIN_STREAM = 0


def epoch_seeds(seed: int, epoch: int, rank: int, stream: int) -> Tuple[int, int]:
    """Seeds of one random stream of one epoch.

    Args:
        seed: the run's seed (``runner.seed``), >= 0.
        epoch: the training epoch (0-based), >= 0.
        rank: the process rank, >= 0.
        stream: 0 for the main process, ``1 + worker_id`` for a data worker.

    Returns:
        ``(seed32, seed64)``: a seed in ``[0, 2**32)`` for numpy and a seed in ``[0, 2**63)``
        for torch and Python's ``random``, both from numpy's ``SeedSequence`` of the four
        numbers (well mixed: neighbouring epochs or workers give unrelated streams).
    """
    for name, value in (('seed', seed), ('epoch', epoch), ('rank', rank), ('stream', stream)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f'epoch_seeds: {name} must be an int >= 0, got {value!r}')
    words = np.random.SeedSequence((seed, epoch, rank, stream)).generate_state(2, np.uint32)
    seed64 = (int(words[0]) << 31) ^ int(words[1])
    return int(words[0]), seed64


def _seed_process(seed: int, epoch: int, rank: int, stream: int) -> None:
    """Seeds Python's ``random``, numpy's global generator and torch (all devices)."""
    seed32, seed64 = epoch_seeds(seed, epoch, rank, stream)
    random.seed(seed64)
    np.random.seed(seed32)
    torch.manual_seed(seed64)


def seed_worker(worker_id: int, seed: int, epoch: int, rank: int) -> None:
    """``worker_init_fn`` of one epoch's data workers: seeds worker ``worker_id`` of process
    ``rank`` with :func:`epoch_seeds` ``(seed, epoch, rank, 1 + worker_id)``."""
    _seed_process(seed, epoch, rank, 1 + worker_id)


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseeds the main process and the training data workers at the start of every epoch,
    so that a run resumed from an epoch checkpoint is bit-identical to the uninterrupted one.

    At ``before_train_epoch``: the main process (model randomness such as dropout and drop
    path, and the data pipeline when ``num_workers=0``) is seeded with
    :func:`epoch_seeds` ``(seed, epoch, r, 0)`` where ``r`` is the rank if
    ``randomness.diff_rank_seed`` is set and 0 otherwise (mmengine's rule: ranks share the
    main seed unless told to differ); the training DataLoader's ``worker_init_fn`` becomes
    :func:`seed_worker` of this epoch (workers always differ by rank and index, as with
    mmengine's own ``worker_init_fn``). ``seed`` is ``runner.seed``: the ``randomness.seed``
    of the config, or the random seed mmengine drew when it is None; ``--resume`` restores
    it from the checkpoint. ``randomness.deterministic`` is untouched. The sampler shuffles
    with ``seed + epoch`` (mmengine's ``DefaultSampler`` via ``DistSamplerSeedHook``); with
    ``diff_rank_seed=True`` mmengine gives the sampler a fresh random seed every run, which
    this hook replaces with the run's seed (the same on all ranks), so that it resumes too.

    What is exact: resuming from a checkpoint saved at the end of an epoch (``CheckpointHook``
    with ``by_epoch=True``), with any ``num_workers``. A run killed in the middle of an epoch
    resumes from the last epoch checkpoint. Not exact: resuming from an iteration checkpoint
    in the middle of an epoch of mmengine's ``EpochBasedTrainLoop`` (that loop restarts the
    epoch from its first batch), and ``IterBasedTrainLoop`` runs (one long epoch): the hook
    logs a warning for both at ``before_train``.

    Raises:
        ValueError: at ``before_train``, if the training DataLoader keeps persistent workers
            (their random state runs on from epoch to epoch and no checkpoint holds it) or has
            a ``worker_init_fn`` of the user's, which this hook would replace.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if not isinstance(loader, DataLoader):
            raise ValueError('EpochSeedHook: runner.train_dataloader must be a torch DataLoader, '
                             f'got {type(loader).__name__}')
        if loader.num_workers > 0 and loader.persistent_workers:
            raise ValueError(
                'EpochSeedHook: train_dataloader.persistent_workers=True keeps every data '
                'worker (and its random state) from one epoch to the next, which a resumed run '
                'cannot restore; set train_dataloader.persistent_workers=False (accepted: '
                'False, or num_workers=0)')
        init_fn = loader.worker_init_fn
        if init_fn is not None and not (isinstance(init_fn, partial) and init_fn.func in (
                mmengine_worker_init_fn, seed_worker)):
            raise ValueError(
                'EpochSeedHook: train_dataloader.worker_init_fn is set to '
                f'{init_fn!r}, which this hook would replace by seed_worker; remove it '
                "(accepted: none, or mmengine's default)")
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            print_log(f'EpochSeedHook: {type(loop).__name__} runs one long epoch; a resumed run '
                      'is not bit-identical to an uninterrupted one', logger='current',
                      level=logging.WARNING)
        elif runner.iter != runner.epoch * len(loader):
            print_log(f'EpochSeedHook: resuming at iteration {runner.iter}, in the middle of '
                      f'epoch {runner.epoch} ({len(loader)} iterations each); mmengine restarts '
                      'that epoch from its first batch, so this run will differ from an '
                      'uninterrupted one (resume from an epoch checkpoint to be exact)',
                      logger='current', level=logging.WARNING)
        if self._diff_rank_seed(runner):
            sampler = getattr(loader, 'sampler', None)
            if sampler is not None and hasattr(sampler, 'seed'):
                sampler.seed = runner.seed - get_rank()

    def before_train_epoch(self, runner) -> None:
        rank = get_rank()
        main_rank = rank if self._diff_rank_seed(runner) else 0
        _seed_process(runner.seed, runner.epoch, main_rank, _MAIN_STREAM)
        runner.train_dataloader.worker_init_fn = partial(
            seed_worker, seed=runner.seed, epoch=runner.epoch, rank=rank)

    @staticmethod
    def _diff_rank_seed(runner) -> bool:
        # the Runner's ``randomness`` argument (kept as ``_randomness_cfg`` by mmengine 0.10),
        # else the config's
        randomness: Optional[dict] = getattr(runner, '_randomness_cfg', None)
        if randomness is None and runner.cfg is not None:
            randomness = runner.cfg.get('randomness')
        return bool((randomness or {}).get('diff_rank_seed', False))
