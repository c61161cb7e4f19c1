"""Every config of the project (configs/ and projects/) saves checkpoints with mmuniformer's
crash-safe AtomicCheckpointHook and trains mixed precision through mmuniformer's
AutoAmpOptimWrapper (mmengine's AmpOptimWrapper on a GPU; on a CPU bfloat16 autocast or
float32), never with the library classes directly."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in
                 list((ROOT / 'configs').rglob('*.py')) +
                 list((ROOT / 'projects').glob('*/configs/**/*.py'))
                 if '_base_' not in p.parts)


def test_every_config_is_listed() -> None:
    assert len(CONFIGS) >= 60
    assert {p.split('/')[1] for p in CONFIGS if p.startswith('configs/')} == {
        'cls', 'video', 'det', 'seg', 'pose'}
    assert sum(p.startswith('projects/quickstart/') for p in CONFIGS) == 6


@pytest.mark.parametrize('path', CONFIGS)
def test_checkpoint_hook_and_amp_wrapper(path: str) -> None:
    from mmengine.config import Config
    cfg = Config.fromfile(str(ROOT / path), import_custom_modules=False)
    assert cfg.default_hooks.checkpoint.type == 'mmuniformer.AtomicCheckpointHook'
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') in (
        'OptimWrapper', 'mmuniformer.AutoAmpOptimWrapper')
    text = str(cfg.to_dict()).replace('mmuniformer.AutoAmpOptimWrapper', '')
    assert "'AmpOptimWrapper'" not in text and "'CheckpointHook'" not in text
