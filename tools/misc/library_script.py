"""Print the path of the train or test script an OpenMMLab library ships (the one
``mim train`` / ``mim test`` runs): ``<package>/.mim/tools/{train,test}.py``.

    python tools/misc/library_script.py LIB {train,test}

LIB: mmpretrain, mmaction2 (or mmaction), mmdet, mmsegmentation (or mmseg), mmpose.
Used by tools/dist_train.sh, tools/dist_test.sh and tools/slurm_train.sh.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import Optional, Sequence

#: library name as mim and pip spell it -> import name
PACKAGES = {'mmpretrain': 'mmpretrain', 'mmaction2': 'mmaction', 'mmaction': 'mmaction',
            'mmdet': 'mmdet', 'mmsegmentation': 'mmseg', 'mmseg': 'mmseg', 'mmpose': 'mmpose'}


def library_script(lib: str, kind: str) -> str:
    """Path of ``lib``'s packaged ``kind`` (``'train'`` / ``'test'``) script; ``SystemExit``
    with the reason when the library is unknown, missing or ships no such script."""
    if lib not in PACKAGES:
        raise SystemExit(f'unknown library {lib!r}; accepted: {", ".join(sorted(PACKAGES))}')
    spec = importlib.util.find_spec(PACKAGES[lib])
    if spec is None or spec.origin is None:
        raise SystemExit(f'{lib} is not installed (pip install it, or run tools/setup_env.sh)')
    script = osp.join(osp.dirname(spec.origin), '.mim', 'tools', f'{kind}.py')
    if not osp.isfile(script):
        raise SystemExit(f'{lib} has no packaged {kind} script at {script}')
    return script


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('lib', help='library: ' + ', '.join(sorted(PACKAGES)))
    parser.add_argument('kind', choices=('train', 'test'))
    args = parser.parse_args(argv)
    sys.stdout.write(library_script(args.lib, args.kind) + '\n')


if __name__ == '__main__':
    main()
