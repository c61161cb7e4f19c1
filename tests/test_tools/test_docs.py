"""The commands and config snippets of README.md, docs/*.md and configs/<task>/README.md.

* Fenced ``bash`` blocks after ``<!-- docs-test: run -->`` are executed, command by command, in
  a scratch folder that links the repository's configs/, projects/, tools/, demo/ (their outputs
  stay there); a following "prints `...`" is compared with the output.
* Every other ``bash`` command is checked without running it (``pip`` / ``source`` lines of
  the set-up are not checked): ``python SCRIPT`` -> the script
  exists and ``--help`` exits 0; ``bash SCRIPT`` -> it exists and ``bash -n`` accepts it;
  ``mim train|test LIB CONFIG`` -> a known library and an existing config; every ``configs/``
  / ``projects/`` path named exists. Any other command fails the test (docs stay checkable).
* ``python`` blocks after ``<!-- docs-test: config LIB -->`` are written as configs under
  ``configs/custom/`` of the scratch folder; each must load, build its model with LIB's
  registry and name dataset classes of LIB whose constructors take the given arguments.
* ``python`` blocks after ``<!-- docs-test: snippet -->`` (config fragments) must compile.
* ``mim search mmuniformer`` queries name a model (``--config``) or collection (``--model``) of
  the metafiles.
* docs/model_zoo.md's tables equal the metafiles.
* The README is a front page (at most 300 lines), every task has its configs/<task>/README.md
  (the metafile's collection points to it), every relative link resolves, and no paragraph is
  written twice across these pages.
"""
import inspect
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional

import pytest
import yaml

from tests.conftest import MIM, REPO, load_module

TASKS = ('cls', 'video', 'det', 'seg', 'pose')
DOCS = ([Path(REPO, 'README.md')] + sorted(Path(REPO, 'docs').glob('*.md'))
        + [Path(REPO, 'configs', t, 'README.md') for t in TASKS])
MIM_LIBS = {'mmpretrain', 'mmaction2', 'mmdet', 'mmsegmentation', 'mmpose'}
SCOPES = {'mmpretrain': 'mmpretrain', 'mmaction2': 'mmaction', 'mmdet': 'mmdet',
          'mmseg': 'mmseg', 'mmpose': 'mmpose'}
LINKED = ('configs', 'projects', 'tools', 'demo', 'mmuniformer')
NOT_RUN = ('pip', 'source')  # environment set-up: documented, not run here
SHELL = ('mkdir', )  # run as they are


class Block(NamedTuple):
    doc: str
    lang: str
    marker: Optional[str]
    text: str
    after: str  # the text up to the next fence


def _blocks() -> List[Block]:
    found = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        i, marker = 0, None
        while i < len(lines):
            line = lines[i]
            m = re.match(r'<!-- docs-test: (.+?) -->', line.strip())
            if m:
                marker = m.group(1)
            elif line.startswith('```') and len(line) > 3:
                end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith('```'))
                nxt = next((j for j in range(end + 1, len(lines)) if lines[j].startswith('```')),
                           len(lines))
                found.append(Block(osp.relpath(path, REPO), line[3:].split()[0], marker,
                                   '\n'.join(lines[i + 1:end]), '\n'.join(lines[end + 1:nxt])))
                marker, i = None, end
            elif line.strip():
                marker = None if not line.startswith('<!--') else marker
            i += 1
    return found


def _commands(text: str) -> List[List[str]]:
    joined = re.sub(r'\\\n\s*', ' ', text)
    return [shlex.split(line, comments=True) for line in joined.splitlines()
            if shlex.split(line, comments=True)]


BLOCKS = _blocks()
RUN = [b for b in BLOCKS if b.lang == 'bash' and b.marker == 'run']
CHECKED = [b for b in BLOCKS if b.lang == 'bash' and b.marker != 'run']
CONFIGS = [b for b in BLOCKS if b.lang == 'python' and (b.marker or '').startswith('config')]
SNIPPETS = [b for b in BLOCKS if b.lang == 'python' and b.marker == 'snippet']


def _zoo():
    """(model names, lower-cased collection names) of the metafiles."""
    names, collections = set(), set()
    for metafile in yaml.safe_load(Path(REPO, 'model-index.yml').read_text())['Import']:
        doc = yaml.safe_load(Path(REPO, metafile).read_text())
        names |= {m['Name'] for m in doc['Models']}
        collections |= {c['Name'].lower() for c in doc['Collections']}
    return names, collections


def test_the_docs_have_blocks_of_every_kind():
    assert {d.name for d in DOCS} >= {'README.md', 'install.md', 'quick_start.md',
                                      'checkpoints.md', 'custom_data.md', 'other_projects.md',
                                      'model_zoo.md', 'deployment_and_visualization.md'}
    assert len(RUN) >= 4 and len(CHECKED) >= 8 and len(CONFIGS) >= 7
    untested = [b.doc for b in BLOCKS
                if b.lang == 'python' and b not in CONFIGS and b not in SNIPPETS]
    assert not untested, f'python blocks without a docs-test marker in {untested}'


def _static_check(cmd: List[str], scripts: set) -> None:
    def exists(path: str) -> None:
        assert osp.exists(osp.join(REPO, path)), f'{" ".join(cmd)}: {path} does not exist'

    head = cmd[0]
    if head in NOT_RUN or head in SHELL:
        return
    if head == 'python':
        if cmd[1] == '-c':
            compile(cmd[2], '<docs>', 'exec')
            return
        exists(cmd[1])
        scripts.add(cmd[1])
    elif head == 'bash':
        exists(cmd[1])
        proc = subprocess.run(['bash', '-n', osp.join(REPO, cmd[1])], capture_output=True)
        assert proc.returncode == 0, proc.stderr
    elif head == 'mim':
        if cmd[1] == 'search':
            assert cmd[2] == 'mmuniformer', cmd
            names, collections = _zoo()
            for option, valid in (('--config', names), ('--model', collections)):
                if option in cmd:
                    value = cmd[cmd.index(option) + 1]
                    assert value.lower() in valid, f'{" ".join(cmd)}: {value!r} not in {valid}'
            return
        assert cmd[1] in ('train', 'test') and cmd[2] in MIM_LIBS, cmd
        exists(cmd[3])
    else:
        pytest.fail(f'command {head!r} in the docs is neither run nor checked: {" ".join(cmd)}')
    for arg in cmd[2:]:
        if arg.startswith(('configs/', 'projects/')):
            exists(arg)


def test_documented_commands_name_existing_scripts_and_configs(monkeypatch, capsys):
    scripts: set = set()
    for block in CHECKED + RUN:
        for cmd in _commands(block.text):
            _static_check(cmd, scripts)
    assert scripts
    for script in sorted(scripts):  # `python SCRIPT --help`, in this process
        module = load_module(osp.join(REPO, script))
        entry = getattr(module, 'parse_args', None) or module.main
        monkeypatch.setattr(sys, 'argv', [script, '--help'])
        with pytest.raises(SystemExit) as exit_info:
            entry()
        assert exit_info.value.code in (0, None), script
        assert 'usage' in capsys.readouterr().out.lower(), script


@pytest.fixture
def workspace(tmp_path):
    for name in LINKED:
        (tmp_path / name).symlink_to(osp.join(REPO, name))
    return tmp_path


@pytest.mark.parametrize('block', RUN, ids=[f'{b.doc}:{i}' for i, b in enumerate(RUN)])
def test_run_blocks(block, workspace):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = ''
    for cmd in _commands(block.text):
        exe = {'python': sys.executable, 'mim': MIM}.get(cmd[0], cmd[0])
        proc = subprocess.run([exe, *cmd[1:]], cwd=workspace, capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-3000:])
        out += proc.stdout
    for outfile in re.findall(r'--out (\S+)', block.text):
        assert (workspace / outfile).stat().st_size > 0, outfile
    printed = re.match(r'\s*prints `([^`]+)`', block.after)
    if printed:
        assert printed.group(1) in out


@pytest.mark.parametrize('block', CONFIGS, ids=[f'{b.doc}:{i}' for i, b in enumerate(CONFIGS)])
def test_config_snippets_build(block, workspace):
    from mmengine.config import Config

    from mmuniformer.apis import build_model_from_config
    lib = block.marker.split()[1]
    custom = workspace / 'cfgs' / 'custom'
    custom.mkdir(parents=True)
    for task in os.listdir(osp.join(REPO, 'configs')):  # '../cls/...' resolves next to custom/
        (workspace / 'cfgs' / task).symlink_to(osp.join(REPO, 'configs', task))
    path = custom / 'snippet.py'
    path.write_text(block.text + '\n')
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == SCOPES[lib]
    model = build_model_from_config(str(path))[0]
    assert sum(p.numel() for p in model.parameters()) > 1e6
    registry = __import__(f'{SCOPES[lib]}.registry', fromlist=['DATASETS']).DATASETS
    for split in ('train', 'val', 'test'):
        dataset = cfg.get(f'{split}_dataloader', {}).get('dataset')
        if not dataset:
            continue
        args = {k: v for k, v in dataset.items() if k != '_scope_'}  # mmengine's scope tag
        cls = registry.get(args.pop('type'))
        assert cls is not None, f'{split} dataset type not in {lib}'
        inspect.signature(cls.__init__).bind(None, **args)  # raises on an unknown argument


def test_model_zoo_page_matches_the_metafiles():
    page = Path(REPO, 'docs/model_zoo.md').read_text()
    index = yaml.safe_load(Path(REPO, 'model-index.yml').read_text())['Import']
    count = 0
    for metafile in index:
        for m in yaml.safe_load(Path(REPO, metafile).read_text())['Models']:
            meta = m['Metadata']
            row = (f"| [{m['Name']}](../{m['Config']}) | {meta['Parameters'] / 1e6:.2f} | "
                   f"{meta['FLOPs'] / 1e9:.2f} |")
            assert row in page, row
            count += 1
    assert page.count('\n| [') == count


@pytest.mark.parametrize('block', SNIPPETS, ids=[f'{b.doc}:{i}' for i, b in enumerate(SNIPPETS)])
def test_snippets_compile(block):
    compile(block.text, block.doc, 'exec')


def test_readme_is_a_front_page_and_tasks_have_their_pages():
    readme = Path(REPO, 'README.md').read_text()
    assert readme.count('\n') <= 300
    for task in TASKS:
        assert f'configs/{task}/README.md' in readme
        page = Path(REPO, 'configs', task, 'README.md').read_text()
        assert f'mim train' in page and f'configs/{task}/' in page
        doc = yaml.safe_load(Path(REPO, 'configs', task, 'metafile.yml').read_text())
        assert {c['README'] for c in doc['Collections']} == {f'configs/{task}/README.md'}


def test_relative_links_resolve():
    broken = []
    for path in DOCS:
        text = re.sub(r'```.*?```', '', path.read_text(), flags=re.S)
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if target.startswith(('http://', 'https://', '#', 'mailto:')):
                continue
            if not osp.exists(osp.join(osp.dirname(path), target.split('#')[0])):
                broken.append(f'{osp.relpath(path, REPO)}: {target}')
    assert not broken, broken


def _paragraphs(path: Path) -> List[str]:
    text = re.sub(r'```.*?```', '', path.read_text(), flags=re.S)
    return [' '.join(p.split()) for p in re.split(r'\n\s*\n', text)
            if len(' '.join(p.split())) >= 120 and not p.lstrip().startswith(('|', '#', '<!--'))]


def test_no_paragraph_is_written_twice():
    seen, twins = {}, []
    for path in DOCS:
        for para in _paragraphs(path):
            for sentence in re.split(r'(?<=[.:;])\s+', para):
                if len(sentence) < 80:
                    continue
                where = seen.setdefault(sentence, osp.relpath(path, REPO))
                if where != osp.relpath(path, REPO):
                    twins.append(f'{where} and {osp.relpath(path, REPO)}: {sentence[:80]}...')
    assert not twins, twins
