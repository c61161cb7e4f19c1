"""Model zoo metadata: model-index.yml + configs/<task>/metafile.yml (OpenMMLab format).

* every config of configs/{cls,video,det,seg,pose}/ has exactly one metafile entry and every
  entry names an existing config;
* the parameter counts are those of the models the configs build (spot checks);
* ``mim search mmuniformer`` on an installed (non-editable) build of the package lists every
  config: mim reads ``<installed package>/.mim/model-index.yml``, which the wheel carries.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import MIM, REPO

TASKS = ('cls', 'video', 'det', 'seg', 'pose')


def _metafiles():
    index = yaml.safe_load(Path(REPO, 'model-index.yml').read_text())
    return index['Import']


def _models():
    models = []
    for path in _metafiles():
        models += yaml.safe_load(Path(REPO, path).read_text())['Models']
    return models


def test_model_index_imports_every_task_metafile():
    expected = [f'configs/{t}/metafile.yml' for t in TASKS
                if list(Path(REPO, 'configs', t).glob('*.py'))]
    assert _metafiles() == expected
    for path in expected:
        doc = yaml.safe_load(Path(REPO, path).read_text())
        names = {c['Name'] for c in doc['Collections']}
        for model in doc['Models']:
            assert model['In Collection'] in names, model['Name']
            meta = model['Metadata']
            assert isinstance(meta['Parameters'], int) and meta['Parameters'] > 1e6
            assert isinstance(meta['FLOPs'], int) and meta['FLOPs'] > 1e8
            if 'Weights' in model:
                assert model['Weights'].startswith('https://drive.google.com/file/d/')
                assert model['Converted From']['Code'] == 'https://github.com/Sense-X/UniFormer'


def test_every_config_has_exactly_one_entry_and_vice_versa():
    configs = sorted(f'configs/{t}/{p.name}' for t in TASKS
                     for p in Path(REPO, 'configs', t).glob('*.py'))
    listed = sorted(m['Config'] for m in _models())
    assert listed == configs  # no config missing, none listed twice, none that does not exist
    names = [m['Name'] for m in _models()]
    assert len(names) == len(set(names))
    for model in _models():
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]


@pytest.mark.parametrize('name', ['uniformer_xxs_in1k_160', 'uniformer_s_in1k',
                                  'uniformer_s_16x4_k400'])
def test_parameters_are_those_of_the_built_model(name):
    from mmuniformer.apis import build_model_from_config
    model = next(m for m in _models() if m['Name'] == name)
    built = build_model_from_config(osp.join(REPO, model['Config']))[0]
    params = sum(p.numel() for p in built.parameters())
    # the metafile keeps the tool's figure rounded to 0.01 M
    assert abs(model['Metadata']['Parameters'] - params) <= 5e3


def test_mim_search_lists_every_config(tmp_path):
    """Build and install the package (non-editable, into a folder) from a copy of the
    sources, then run ``mim search`` with that folder first on the path."""
    src, target = tmp_path / 'src', tmp_path / 'site'
    src.mkdir()
    for name in ('mmuniformer', 'configs', 'tools'):
        shutil.copytree(osp.join(REPO, name), src / name, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__', '*.onnx', '*.pth'))
    for name in ('pyproject.toml', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO, name), src / name)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--disable-pip-version-check', '--target',
                    str(target), str(src)], check=True, capture_output=True, timeout=600)
    assert (target / 'mmuniformer/.mim/model-index.yml').is_file()
    assert (target / 'mmuniformer/.mim/configs/cls/metafile.yml').is_file()
    env = dict(os.environ, PYTHONPATH=str(target))
    out = tmp_path / 'search.json'
    proc = subprocess.run([MIM, 'search', 'mmuniformer', '--json', str(out)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = json.loads(out.read_text())  # {field: {model name: value}}
    assert sorted(table['parameters']) == sorted(m['Name'] for m in _models())
    for model in _models():
        assert table['parameters'][model['Name']] == model['Metadata']['Parameters']
