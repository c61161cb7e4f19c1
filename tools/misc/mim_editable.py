"""Let ``mim`` (and mmengine) find an editable install of mmuniformer.

    python tools/misc/mim_editable.py [--path SITE_DIR]

mim 0.3.9 (``mim.utils.get_installed_path``, as mmengine's ``get_installed_path``) looks for
an installed package at ``<distribution location>/<name>`` and, where that folder does not
exist, at ``<distribution location>/<first line of top_level.txt>``. A PEP 660 editable
install (``pip install -e .``) leaves the distribution's metadata in site-packages but the
package in the source tree, so ``mim search mmuniformer`` fails with "model-index.yml ... is
not found". This script writes the source package's absolute path as the first line of the
editable install's ``top_level.txt`` (the import name stays on the next line), which
``os.path.join`` then takes as the package folder. Regular installs are left alone;
``pip uninstall mmuniformer`` removes the file with the rest of the metadata.
"""
import argparse
import json
import os.path as osp
import sys
from importlib import metadata
from typing import List, Optional, Sequence
from urllib.parse import unquote, urlparse

PACKAGE = 'mmuniformer'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--path', action='append', default=None, metavar='SITE_DIR',
                        help='where the install is (default: sys.path); repeatable')
    return parser.parse_args(argv)


def editable_source(dist: metadata.Distribution) -> Optional[str]:
    """The source package folder of an editable install, None for a regular one."""
    text = dist.read_text('direct_url.json')
    if not text:
        return None
    info = json.loads(text)
    if not info.get('dir_info', {}).get('editable'):
        return None
    return osp.join(unquote(urlparse(info['url']).path), PACKAGE)


def link(paths: Optional[List[str]] = None) -> str:
    """Record the source folder in the editable install's ``top_level.txt``; returns what
    was done. ``SystemExit`` when mmuniformer is not installed under ``paths``."""
    dists = list(metadata.distributions(name=PACKAGE, path=paths or sys.path))
    if not dists:
        raise SystemExit(f'{PACKAGE} is not installed in {paths or "sys.path"} '
                         '(pip install -e . first)')
    dist = dists[0]
    source = editable_source(dist)
    if source is None:
        return f'{PACKAGE} is a regular install: mim finds it as it is'
    if not osp.isfile(osp.join(source, '.mim', 'model-index.yml')):
        raise SystemExit(f'{source}/.mim/model-index.yml is missing: is {source} a checkout '
                         'of the repository?')
    top_level = osp.join(str(dist._path), 'top_level.txt')  # type: ignore[attr-defined]
    names = [n for n in (dist.read_text('top_level.txt') or PACKAGE).split() if n != source]
    with open(top_level, 'w', encoding='utf-8') as f:
        f.write('\n'.join([source] + names) + '\n')
    return f'editable {PACKAGE}: mim and mmengine now find it at {source} (recorded in {top_level})'


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    sys.stdout.write(link(args.path) + '\n')


if __name__ == '__main__':
    main()
