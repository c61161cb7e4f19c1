"""EpochSeedHook and AtomicCheckpointHook in an in-process mmengine Runner (a toy model and a
dataset with random augmentation; seconds): resumed epochs draw the same random numbers as
the uninterrupted run; a save that dies half-way leaves the previous checkpoint in place."""
import os
import os.path as osp
import random
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmuniformer.engine.hooks import AtomicCheckpointHook, EpochSeedHook, epoch_seeds

EPOCHS = 3


class NoisyData(Dataset):
    """Eight samples; each read draws from Python's random, numpy and torch (the three
    generators augmentations use) and returns the draws with the sample."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, idx: int) -> dict:
        noise = [random.random(), float(np.random.rand()), float(torch.rand(()))]
        return dict(inputs=torch.full((2, ), float(idx)) + torch.tensor(noise[:2]),
                    noise=torch.tensor(noise))


class Toy(BaseModel):
    """A linear layer with dropout (main-process randomness), loss = mean output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, inputs, noise=None, mode='loss'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(self.drop(inputs)).mean()
        return dict(loss=out) if mode == 'loss' else [out]


class RecordDraws(Hook):
    """Per epoch: the data draws of every batch and one main-process draw at the end."""

    def __init__(self) -> None:
        self.draws: Dict[int, List[torch.Tensor]] = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.draws.setdefault(runner.epoch, []).append(data_batch['noise'].clone())

    def after_train_epoch(self, runner) -> None:
        self.draws[runner.epoch].append(torch.rand(3, dtype=torch.float64))


class RisingScore(BaseMetric):
    """``score`` = the epoch (from the runner's MessageHub): a new best every epoch."""

    def process(self, data_batch, data_samples) -> None:
        self.results.append(1)

    def compute_metrics(self, results) -> dict:
        return dict(score=float(MessageHub.get_current_instance().get_info('epoch')))


def _runner(work_dir: Path, name: str, num_workers: int, record: Hook, seed_hook: bool = True,
            resume: bool = False, checkpoint: dict = None, max_epochs: int = EPOCHS,
            validate: bool = False, **randomness) -> Runner:
    hooks = [record] + ([EpochSeedHook()] if seed_hook else [])
    val = dict(val_dataloader=dict(dataset=NoisyData(), batch_size=4, num_workers=0,
                                   sampler=dict(type='DefaultSampler', shuffle=False),
                                   collate_fn=dict(type='default_collate')),
               val_evaluator=[RisingScore()], val_cfg=dict()) if validate else {}
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        # a unique name: mmengine keeps one visualizer (and its log folder) per experiment
        # name and second, and a passing test's tmp_path is removed right after it
        model=Toy(), work_dir=str(work_dir), experiment_name=f'{name}_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(dataset=NoisyData(), batch_size=2, num_workers=num_workers,
                              persistent_workers=False,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=checkpoint or dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=hooks, randomness=dict(seed=randomness.pop('seed', 3), **randomness),
        resume=resume, **val)


#: set in the fresh interpreter that runs the data-worker case
FRESH = os.environ.get('MMUNIFORMER_FRESH_INTERPRETER') == '1'


@pytest.mark.parametrize('num_workers', [0, pytest.param(1, marks=pytest.mark.skipif(
    not FRESH, reason='run in a fresh interpreter by test_resume_with_a_data_worker'))])
def test_resumed_epochs_draw_what_the_straight_run_drew(tmp_path, num_workers):
    straight = RecordDraws()
    runner = _runner(tmp_path / 'a', 'seed_straight', num_workers, straight)
    runner.train()
    weights = {k: v.clone() for k, v in runner.model.state_dict().items()}
    # a run that stops after epoch 1, then one resumed from its checkpoint
    first = RecordDraws()
    _runner(tmp_path / 'b', 'seed_first', num_workers, first, max_epochs=1).train()
    resumed = RecordDraws()
    runner = _runner(tmp_path / 'b', 'seed_resumed', num_workers, resumed, resume=True)
    runner.train()
    assert sorted(resumed.draws) == [1, 2]
    for epoch in (1, 2):
        for a, b in zip(straight.draws[epoch], resumed.draws[epoch]):
            assert torch.equal(a, b), f'epoch {epoch}'
    for key, value in weights.items():
        assert torch.equal(runner.model.state_dict()[key], value), key
    # the epochs draw different numbers (the hook does not replay one epoch)
    assert not torch.equal(straight.draws[1][0], straight.draws[2][0])


def test_resume_with_a_data_worker(tmp_path):
    """The case with a data-loader worker, in a fresh interpreter: forked from a pytest-xdist
    worker that earlier tests of the suite had filled, the data worker took the xdist worker
    down ("node down: Not properly terminated"); alone it passes either way."""
    if FRESH:
        pytest.skip('already in the fresh interpreter')
    node = f'{__file__}::test_resumed_epochs_draw_what_the_straight_run_drew[1]'
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', node, '-q', '-p', 'no:cacheprovider', '-n', '0',
         '--basetemp', str(tmp_path / 'fresh')],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, MMUNIFORMER_FRESH_INTERPRETER='1'))
    assert proc.returncode == 0 and '1 passed' in proc.stdout, proc.stdout[-4000:] + proc.stderr


def test_without_the_hook_a_resumed_epoch_replays_epoch_0(tmp_path):
    """What the hook fixes: mmengine alone seeds once per run."""
    straight, first, resumed = RecordDraws(), RecordDraws(), RecordDraws()
    _runner(tmp_path / 'a', 'plain_straight', 0, straight, seed_hook=False).train()
    _runner(tmp_path / 'b', 'plain_first', 0, first, seed_hook=False, max_epochs=1).train()
    runner = _runner(tmp_path / 'b', 'plain_resumed', 0, resumed, seed_hook=False, resume=True)
    runner.train()
    assert not torch.equal(straight.draws[1][0], resumed.draws[1][0])


def _last_main_draw(work_dir: Path, name: str, **randomness) -> torch.Tensor:
    record = RecordDraws()
    _runner(work_dir, name, 0, record, max_epochs=1, **randomness).train()
    return record.draws[0][-1]


def test_seed_and_diff_rank_seed_change_the_draws(tmp_path, monkeypatch):
    from mmuniformer.engine.hooks import epoch_seed
    rank0 = _last_main_draw(tmp_path / 'a', 'rank0', seed=3)
    assert not torch.equal(rank0, _last_main_draw(tmp_path / 'b', 'seed4', seed=4))
    # as seen from rank 1: the main-process stream is rank 0's unless diff_rank_seed
    monkeypatch.setattr(epoch_seed, 'get_rank', lambda: 1)
    assert torch.equal(rank0, _last_main_draw(tmp_path / 'c', 'rank1', seed=3))
    assert not torch.equal(rank0, _last_main_draw(tmp_path / 'd', 'rank1_diff', seed=3,
                                                  diff_rank_seed=True))


def test_epoch_seeds():
    seeds = {epoch_seeds(0, e, r, s) for e in range(4) for r in range(2) for s in range(3)}
    assert len(seeds) == 24  # all different
    assert epoch_seeds(5, 1, 0, 2) == epoch_seeds(5, 1, 0, 2)
    seed32, seed64 = epoch_seeds(2**40, 7, 3, 1)
    assert 0 <= seed32 < 2**32 and 0 <= seed64 < 2**63
    with pytest.raises(ValueError, match='epoch must be an int >= 0, got -1'):
        epoch_seeds(0, -1, 0, 0)


@pytest.mark.parametrize('loader, message', [
    (dict(num_workers=1, persistent_workers=True), 'persistent_workers=True'),
    (dict(num_workers=1, worker_init_fn=dict(type=print)), 'worker_init_fn is set to'),
])
def test_epoch_seed_hook_refuses_what_it_cannot_resume(tmp_path, loader, message):
    runner = _runner(tmp_path, 'refuse', 0, RecordDraws())
    runner._train_dataloader.update(loader)
    with pytest.raises(ValueError, match=message):
        runner.train()


def test_epoch_seed_hook_warns_on_a_mid_epoch_resume(tmp_path, capsys):
    iter_ckpt = dict(type='CheckpointHook', interval=3, by_epoch=False, save_last=False)
    _runner(tmp_path, 'mid_first', 0, RecordDraws(), checkpoint=iter_ckpt, max_epochs=1).train()
    assert 'in the middle of' not in capsys.readouterr().out
    _runner(tmp_path, 'mid_resumed', 0, RecordDraws(), checkpoint=iter_ckpt, resume=True).train()
    assert ('EpochSeedHook: resuming at iteration 3, in the middle of epoch 0 (4 iterations '
            'each)') in capsys.readouterr().out


def _die_in_save(monkeypatch, name: str) -> None:
    """Makes the write of checkpoint ``name`` stop half-way with an exception (a kill)."""
    put = LocalBackend.put

    def half_put(self, obj, filepath):
        if name in osp.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise KeyboardInterrupt('killed')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', half_put)


@pytest.mark.parametrize('hook, survives', [('mmuniformer.AtomicCheckpointHook', True),
                                            ('CheckpointHook', False)])
def test_a_save_killed_half_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch, hook,
                                                              survives):
    _die_in_save(monkeypatch, 'epoch_2.pth')
    runner = _runner(tmp_path, f'atomic_{survives}', 0, RecordDraws(),
                     checkpoint=dict(type=hook, interval=1, max_keep_ckpts=1))
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    last = (tmp_path / 'last_checkpoint').read_text().strip()
    # mmengine's hook deleted epoch_1.pth before writing epoch_2.pth: nothing to resume from
    assert osp.isfile(last) == survives
    if not survives:
        return
    assert osp.basename(last) == 'epoch_1.pth'
    assert torch.load(last, weights_only=False)['meta']['epoch'] == 1
    assert not (tmp_path / 'epoch_2.pth').exists()  # the partial file has no final name
    monkeypatch.undo()
    runner = _runner(tmp_path, 'atomic_resumed', 0, RecordDraws(), resume=True,
                     checkpoint=dict(type=hook, interval=1, max_keep_ckpts=1))
    runner.train()
    assert runner.epoch == EPOCHS
    names = sorted(p.name for p in tmp_path.iterdir() if 'epoch_' in p.name)
    assert names == [f'epoch_{EPOCHS}.pth']  # stale temporary file removed, one kept
    assert (tmp_path / 'last_checkpoint').read_text().strip().endswith(f'epoch_{EPOCHS}.pth')


@pytest.mark.parametrize('hook, survives', [('mmuniformer.AtomicCheckpointHook', True),
                                            ('CheckpointHook', False)])
def test_a_best_checkpoint_save_killed_half_way_keeps_the_previous_best(tmp_path, monkeypatch,
                                                                        hook, survives):
    checkpoint = dict(type=hook, interval=1, max_keep_ckpts=1, save_best='score',
                      rule='greater')
    _die_in_save(monkeypatch, 'best_score_epoch_2.pth')
    runner = _runner(tmp_path, f'best_{survives}', 0, RecordDraws(), checkpoint=checkpoint,
                     validate=True)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    previous = tmp_path / 'best_score_epoch_1.pth'
    assert previous.is_file() == survives  # mmengine's hook removed it before the new one
    if not survives:
        return
    assert torch.load(str(previous), weights_only=False)['meta']['epoch'] == 1
    monkeypatch.undo()
    runner = _runner(tmp_path, 'best_resumed', 0, RecordDraws(), checkpoint=checkpoint,
                     validate=True, resume=True)
    runner.train()
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix == '.pth')
    assert names == [f'best_score_epoch_{EPOCHS}.pth', f'epoch_{EPOCHS}.pth']


def test_atomic_hook_is_the_registered_checkpoint_hook_subclass():
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import HOOKS
    hook = HOOKS.build(dict(type='mmuniformer.AtomicCheckpointHook', interval=2,
                            max_keep_ckpts=3, save_best='auto'))
    assert isinstance(hook, AtomicCheckpointHook) and isinstance(hook, CheckpointHook)
    assert (hook.interval, hook.max_keep_ckpts) == (2, 3)
