"""Print the path of the train or test script an OpenMMLab library ships (the one
``mim train`` / ``mim test`` runs): ``<package>/.mim/tools/{train,test}.py``.

    python tools/misc/library_script.py LIB {train,test}

LIB: a library's package name (as pip and mim spell it) or its import name / scope, from
:data:`mmuniformer.libraries.LIBRARIES`. Used by tools/dist_train.sh, tools/dist_test.sh and
tools/slurm_train.sh.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

try:
    from mmuniformer.libraries import LIBRARIES, library
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    from mmuniformer.libraries import LIBRARIES, library

#: names accepted for LIB (package and import names)
NAMES = sorted({name for lib in LIBRARIES for name in (lib.package, lib.scope)})


def library_script(lib: str, kind: str) -> str:
    """Path of ``lib``'s packaged ``kind`` (``'train'`` / ``'test'``) script; ``SystemExit``
    with the reason when the library is unknown, missing or ships no such script."""
    try:
        return library(lib).script(kind)
    except (KeyError, FileNotFoundError) as err:
        raise SystemExit(err.args[0])


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('lib', help='library: ' + ', '.join(NAMES))
    parser.add_argument('kind', choices=('train', 'test'))
    args = parser.parse_args(argv)
    sys.stdout.write(library_script(args.lib, args.kind) + '\n')


if __name__ == '__main__':
    main()
