"""``mim search mmuniformer`` on an editable install (``pip install -e .``, what the README
and tools/setup_env.sh do), with every query the README shows.

mim 0.3.9 looks for the package at ``<distribution location>/<name>``, which a PEP 660
editable install does not create; ``tools/misc/mim_editable.py`` records the source folder
where mim looks next. The install goes into a scratch folder (``pip install -e --target``) from
a copy of the sources, so the shared environment is untouched.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import MIM, REPO


def _zoo():
    models, collections = {}, {}
    for metafile in yaml.safe_load(Path(REPO, 'model-index.yml').read_text())['Import']:
        doc = yaml.safe_load(Path(REPO, metafile).read_text())
        for m in doc['Models']:
            models[m['Name']] = m
            collections.setdefault(m['In Collection'].lower(), []).append(m['Name'])
    return models, collections


@pytest.fixture(scope='module')
def editable_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('editable')
    src, site = tmp / 'src', tmp / 'site'
    src.mkdir()
    for name in ('mmuniformer', 'configs', 'tools'):
        shutil.copytree(os.path.join(REPO, name), src / name, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__', '*.onnx', '*.pth'))
    for name in ('pyproject.toml', 'README.md', 'model-index.yml'):
        shutil.copy(os.path.join(REPO, name), src / name)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--disable-pip-version-check', '--target', str(site),
                    '-e', str(src)], check=True, capture_output=True, timeout=600)
    assert not (site / 'mmuniformer').exists()  # editable: the package stays in src
    return site


def _mim(args, site, cwd):
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([MIM, *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=600)


def _rows(site, cwd, *query):
    out = Path(cwd) / 'search.json'
    out.unlink(missing_ok=True)
    proc = _mim(['search', 'mmuniformer', *query, '--json', str(out)], site, cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'pkg_resources' not in proc.stderr, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc


@pytest.mark.slow
def test_mim_search_on_an_editable_install(editable_site, tmp_path):
    before = _mim(['search', 'mmuniformer'], editable_site, tmp_path)
    assert before.returncode != 0 and 'model-index.yml' in before.stdout + before.stderr
    proc = subprocess.run([sys.executable, os.path.join(REPO, 'tools/misc/mim_editable.py'),
                           '--path', str(editable_site)], capture_output=True, text=True,
                          check=True)
    assert 'editable mmuniformer' in proc.stdout
    models, collections = _zoo()

    table, _ = _rows(editable_site, tmp_path)  # {field: {model name: value}}
    assert sorted(table['parameters']) == sorted(models)
    for name, model in models.items():
        assert table['parameters'][name] == model['Metadata']['Parameters']

    readme = Path(REPO, 'README.md').read_text() + Path(REPO, 'docs/model_zoo.md').read_text()
    queries = sorted(set(re.findall(r'^mim search mmuniformer(.*?)(?:\s+#.*)?$', readme, re.M)))
    assert len(queries) >= 3
    for query in queries:
        args = query.split()
        table, proc = _rows(editable_site, tmp_path, *args)
        rows = sorted(next(iter(table.values())))
        if '--config' in args:
            assert rows == [args[args.index('--config') + 1]]
        elif '--model' in args:
            assert rows == sorted(collections[args[args.index('--model') + 1].lower()])
        else:
            assert rows == sorted(models)
        if '--field' in args:
            fields = args[args.index('--field') + 1:]
            assert set(table) == set(fields)
    # the detection collection: every det config, nothing else
    assert sorted(collections['uniformer-coco']) == sorted(
        p.stem for p in Path(REPO, 'configs/det').glob('*.py'))
