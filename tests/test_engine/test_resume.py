"""Resuming an mmengine Runner (mmpretrain classifier with a UniFormer backbone) from a
checkpoint continues training exactly: same losses and same final weights as a
straight run."""
import os.path as osp

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

pytest.importorskip('mmpretrain')

import mmuniformer  # noqa: E402,F401
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

TINY = dict(depths=(1, 1, 2, 1), embed_dims=(16, 32, 64, 128), head_dim=16)
NUM_CLASSES = 3
MAX_ITERS = 4


class TinyImages(Dataset):
    """Eight fixed random 32x32 images with labels, already packed (no augmentation)."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.images = rng.integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)
        self.labels = rng.integers(0, NUM_CLASSES, 8)
        self.metainfo = dict(classes=[f'c{i}' for i in range(NUM_CLASSES)])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=torch.from_numpy(self.images[idx].copy()),
                    data_samples=DataSample().set_gt_label(int(self.labels[idx])))


class RecordLoss(Hook):
    """Keeps the loss of every training iteration, keyed by the iteration number (1-based)."""

    def __init__(self) -> None:
        self.losses = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses[runner.iter + 1] = outputs['loss'].item()


@pytest.fixture
def restore_determinism():
    flags = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
             torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(flags[0])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = flags[1:]


def _runner(work_dir: str, name: str, max_iters: int, recorder: Hook, load_from=None) -> Runner:
    return Runner(
        model=dict(
            type='ImageClassifier',
            backbone=dict(type='mmuniformer.UniFormer', arch=TINY, drop_path_rate=0.),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=128,
                      loss=dict(type='CrossEntropyLoss')),
            data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=NUM_CLASSES,
                                   mean=[127.5] * 3, std=[64.] * 3)),
        work_dir=work_dir,
        experiment_name=name,
        train_dataloader=dict(
            dataset=TinyImages(), batch_size=2, num_workers=0, persistent_workers=False,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                           clip_grad=dict(max_norm=5.0)),
        # a scheduler whose state must be resumed too
        param_scheduler=[dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                              end=MAX_ITERS)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[recorder],
        randomness=dict(seed=0, deterministic=True),
        default_scope='mmpretrain',
        load_from=load_from,
        resume=load_from is not None)


def test_resume_matches_straight_run(tmp_path, restore_determinism):
    straight = RecordLoss()
    runner = _runner(str(tmp_path / 'straight'), 'resume_straight', MAX_ITERS, straight)
    runner.train()
    final_straight = {k: v.clone() for k, v in runner.model.state_dict().items()}
    lr_straight = runner.optim_wrapper.get_lr()['lr'][0]

    first = RecordLoss()
    runner = _runner(str(tmp_path / 'split'), 'resume_first', 2, first)
    runner.train()
    ckpt = osp.join(str(tmp_path / 'split'), 'iter_2.pth')
    assert osp.isfile(ckpt)
    # the first two iterations are the straight run's
    np.testing.assert_allclose([first.losses[1], first.losses[2]],
                               [straight.losses[1], straight.losses[2]], rtol=0, atol=1e-6)

    second = RecordLoss()
    runner = _runner(str(tmp_path / 'split'), 'resume_second', MAX_ITERS, second, load_from=ckpt)
    runner.train()
    assert sorted(second.losses) == [3, 4]  # resumed at iteration 2, not restarted
    assert runner.iter == MAX_ITERS
    np.testing.assert_allclose([second.losses[3], second.losses[4]],
                               [straight.losses[3], straight.losses[4]], rtol=0, atol=1e-6)
    # losses change from iteration to iteration (the check is not vacuous)
    assert len({round(v, 6) for v in straight.losses.values()}) == MAX_ITERS
    final_resumed = runner.model.state_dict()
    assert set(final_resumed) == set(final_straight)
    for key, value in final_straight.items():
        torch.testing.assert_close(final_resumed[key], value, atol=1e-6, rtol=0,
                                   msg=lambda m, key=key: f'{key}: {m}')
    # iterations 3-4 did move the weights away from the checkpoint
    at_2 = torch.load(ckpt, map_location='cpu')['state_dict']
    moved = [k for k, v in at_2.items() if v.is_floating_point()
             and not torch.allclose(v, final_resumed[k], atol=1e-6, rtol=0)]
    assert len(moved) > 10
    # the learning rate followed the resumed scheduler (warm-up ends at iteration 4)
    lr = runner.optim_wrapper.get_lr()['lr'][0]
    assert lr == pytest.approx(lr_straight, rel=1e-9) and lr == pytest.approx(1e-3, rel=1e-6)
