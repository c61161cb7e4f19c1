"""The quick-start data generators (projects/quickstart/tools/data/): counts and sizes are
checked with a message naming the option, two runs never mix in one folder, a folder they did
not write is refused, every run leaves a manifest of its parameters, and ``--reuse`` keeps a
folder only when its manifest shows the same parameters (what tools/quickstart.sh relies on)."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA_TOOLS = ROOT / 'projects/quickstart/tools/data'


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DATA_TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# generator -> (the smallest parameters it accepts, sizes it must refuse, its CLI size options)
CASES: Dict[str, tuple] = {
    'make_shapes_cls': (dict(size=16), [8, 4096], ['--size', '16']),
    'make_motion_video': (dict(size=16, num_frames=2), [8, 1024], ['--size', '16', '--num-frames',
                                                                  '2']),
    'make_coco_instances': (dict(size=(32, 40)), [(16, 40), (32, 5000)], ['--size', '32', '40']),
    'make_coco_keypoints': (dict(size=(64, 64)), [(48, 64), (64, 4096)], ['--size', '64', '64']),
    'make_ade_seg': (dict(size=(32, 32)), [(16, 32), (32, 4096)], ['--size', '32', '32']),
}
if importlib.util.find_spec('cv2') is None:  # the video generator writes mp4 with OpenCV
    CASES.pop('make_motion_video')


def _files(root: Path) -> Set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob('*') if p.is_file()}


@pytest.mark.parametrize('name', sorted(CASES))
def test_counts_and_sizes_are_checked(name: str, tmp_path: Path) -> None:
    gen = _load(name)
    small, bad_sizes, _ = CASES[name]
    for counts, option, value in ((dict(num_train=0, num_val=1), '--num-train', '0'),
                                  (dict(num_train=1, num_val=-2), '--num-val', '-2'),
                                  (dict(num_train=2.5, num_val=1), '--num-train', '2.5')):
        with pytest.raises(ValueError, match=f'{option} must be a whole number of 1 or more, '
                           f'got {value}'):
            gen.generate(tmp_path / 'out', **counts, **small)
    for size in bad_sizes:
        with pytest.raises(ValueError, match=r'--size must be between \d+ and \d+ pixels'):
            gen.generate(tmp_path / 'out', num_train=1, num_val=1, **dict(small, size=size))
    with pytest.raises(ValueError, match='--seed must be a whole number of 0 or more, got -1'):
        gen.generate(tmp_path / 'out', num_train=1, num_val=1, seed=-1, **small)
    assert not (tmp_path / 'out').exists()  # nothing written before the checks


@pytest.mark.parametrize('name', sorted(CASES))
def test_a_second_run_replaces_the_first_and_writes_a_manifest(name: str,
                                                               tmp_path: Path) -> None:
    gen = _load(name)
    small = CASES[name][0]
    out = gen.generate(tmp_path / 'out', num_train=3, num_val=2, seed=1, **small)
    assert len(_files(out)) > len(_files(gen.generate(tmp_path / 'fresh', num_train=1,
                                                        num_val=1, seed=4, **small)))
    again = gen.generate(out, num_train=1, num_val=1, seed=4, **small)
    assert again == out
    assert _files(out) == _files(tmp_path / 'fresh')  # nothing of the first run is left
    manifest = json.loads((out / 'manifest.json').read_text())
    expected = dict(num_train=1, num_val=1, seed=4, **small)
    assert manifest == dict(generator=name, complete=True,
                            params=json.loads(json.dumps(expected)))


@pytest.mark.parametrize('name', sorted(CASES))
def test_a_folder_it_did_not_write_is_refused(name: str, tmp_path: Path) -> None:
    gen = _load(name)
    small = CASES[name][0]
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match=f'has no manifest.json of {name}'):
        gen.generate(foreign, num_train=1, num_val=1, **small)
    assert _files(foreign) == {'notes.txt'}
    # a previous output with something else added: refused, nothing removed
    out = gen.generate(tmp_path / 'out', num_train=1, num_val=1, **small)
    before = _files(out)
    (out / 'extra.txt').write_text('mine')
    with pytest.raises(FileExistsError, match=r"also \['extra.txt'\]"):
        gen.generate(out, num_train=2, num_val=1, **small)
    assert _files(out) == before | {'extra.txt'}
    # another generator's output is not this generator's
    other = next(n for n in CASES if n != name)
    (out / 'extra.txt').unlink()
    with pytest.raises(FileExistsError, match=f'has no manifest.json of {other}'):
        _load(other).generate(out, num_train=1, num_val=1, **CASES[other][0])


def _cli(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DATA_TOOLS / f'{name}.py'), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('name', sorted(CASES))
def test_cli_names_the_bad_argument(name: str, tmp_path: Path) -> None:
    size_args = CASES[name][2]
    proc = _cli(name, '--out', str(tmp_path / 'out'), '--num-train', '-3', *size_args)
    assert proc.returncode == 2
    assert '--num-train must be a whole number of 1 or more, got -3' in proc.stderr
    proc = _cli(name, '--out', str(tmp_path / 'out'), '--num-val', '0', *size_args)
    assert proc.returncode == 2 and '--num-val must be a whole number of 1 or more, got 0' in \
        proc.stderr
    assert not (tmp_path / 'out').exists()
    help_text = ' '.join(_cli(name, '--help').stdout.split())
    assert 'a previous output of this generator (cleared first)' in help_text
    assert 'two runs never mix' in help_text


def test_reuse_keeps_only_the_same_parameters(tmp_path: Path) -> None:
    out = tmp_path / 'shapes'
    first = _cli('make_shapes_cls', '--out', str(out), '--num-train', '2', '--num-val', '1',
                 '--size', '16', '--reuse')
    assert first.returncode == 0 and first.stdout.startswith(
        'wrote 2 train + 1 val images per class (size 16, seed 0) in ')
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob('*.png')}
    same = _cli('make_shapes_cls', '--out', str(out), '--num-train', '2', '--num-val', '1',
                '--size', '16', '--reuse')
    assert same.returncode == 0 and same.stdout.startswith('kept (same parameters)')
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*.png')} == stamps
    other = _cli('make_shapes_cls', '--out', str(out), '--num-train', '1', '--num-val', '1',
                 '--size', '16', '--reuse')
    assert other.returncode == 0 and other.stdout.startswith('wrote 1 train + 1 val images')
    assert len(list((out / 'train').rglob('*.png'))) == 8
    # an unfinished run (its manifest says so) is never kept
    manifest = json.loads((out / 'manifest.json').read_text())
    (out / 'manifest.json').write_text(json.dumps(dict(manifest, complete=False)))
    redo = _cli('make_shapes_cls', '--out', str(out), '--num-train', '1', '--num-val', '1',
                '--size', '16', '--reuse')
    assert redo.returncode == 0 and redo.stdout.startswith('wrote 1 train + 1 val images')


def test_quickstart_regenerates_data_made_with_other_parameters(tmp_path: Path) -> None:
    """tools/quickstart.sh on a data folder that a docs example filled with one image per class:
    the quick start makes its own (default) dataset instead of training on that one. The run
    is cut short after the data step (no untrained_checkpoint.py in the copy)."""
    repo = tmp_path / 'repo'
    shutil.copytree(ROOT / 'projects/quickstart/tools', repo / 'projects/quickstart/tools')
    (repo / 'tools').mkdir()
    shutil.copy(ROOT / 'tools/quickstart.sh', repo / 'tools/quickstart.sh')
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'bin/activate').write_text('')
    gen = _load('make_shapes_cls')
    data = gen.generate(repo / 'data/shapes_cls', num_train=1, num_val=1, size=64)
    env = dict(os.environ, MMUNIFORMER_VENV=str(venv), QUICKSTART_SKIP_SETUP='1',
               QUICKSTART_WORK_DIR=str(tmp_path / 'work'),
               PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ["PATH"]}')
    proc = subprocess.run(['bash', str(repo / 'tools/quickstart.sh'), '--task', 'cls'],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0  # stopped after the data step, as intended
    assert 'wrote 300 train + 50 val images per class' in proc.stdout, proc.stdout + proc.stderr
    manifest = json.loads((data / 'manifest.json').read_text())
    assert manifest['params'] == dict(num_train=300, num_val=50, size=64, seed=0)
    counts: List[int] = [len(list((data / 'train' / c).glob('*.png'))) for c in gen.CLASSES]
    assert counts == [300] * len(gen.CLASSES)
