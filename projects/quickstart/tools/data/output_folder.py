"""What the quick-start data generators share: argument checks, one run per output folder and
the manifest of the parameters that made a folder.

A generator writes ``OUT/manifest.json`` (its name, its parameters and whether the run
finished) before anything else and again when it has finished. A later run into the same
folder:

- clears what a previous run of the same generator wrote there (the entries it names as its
  own, and the manifest) before writing, so two runs never mix;
- refuses a non-empty folder that holds no manifest of that generator, or that holds entries
  the generator does not write (nothing is deleted then);
- with ``--reuse``, keeps a finished previous output made with exactly the same parameters
  and writes nothing (``tools/quickstart.sh`` relies on this).
"""
import argparse
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

MANIFEST = 'manifest.json'
Size = Union[int, Sequence[int]]


def check_count(name: str, value: Any) -> int:
    """``value`` as a count of at least 1; ``name`` is the command-line option."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a whole number of 1 or more, got {value!r}')
    return value


def check_size(name: str, value: Size, low: int, high: int) -> Size:
    """``value`` (one side or ``(H, W)``) with every side in ``[low, high]`` pixels."""
    sides = value if isinstance(value, (tuple, list)) else (value, )
    if not sides or not all(isinstance(s, int) and not isinstance(s, bool) and low <= s <= high
                            for s in sides):
        raise ValueError(f'{name} must be between {low} and {high} pixels, got {value!r}')
    return value


def read_manifest(out: Path) -> Optional[Dict[str, Any]]:
    """The manifest of ``out``, or None when there is none (or it is not one of ours)."""
    try:
        manifest = json.loads((Path(out) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _plain(params: Dict[str, Any]) -> Dict[str, Any]:
    """``params`` as JSON reads them back (tuples become lists), so that they compare."""
    return json.loads(json.dumps(params))


def is_same_output(out: Path, generator: str, params: Dict[str, Any]) -> bool:
    """Whether ``out`` holds a finished output of ``generator`` made with ``params``."""
    manifest = read_manifest(out)
    return (manifest is not None and manifest.get('generator') == generator
            and manifest.get('complete') is True and manifest.get('params') == _plain(params))


def write_manifest(out: Path, generator: str, params: Dict[str, Any], complete: bool) -> None:
    """Write ``OUT/manifest.json``: the generator, its parameters, whether it finished."""
    text = json.dumps(dict(generator=generator, params=_plain(params), complete=complete),
                      indent=2, sort_keys=True)
    (Path(out) / MANIFEST).write_text(text + '\n')


def prepare_output(out: Path, generator: str, owned: Sequence[str]) -> Path:
    """Make ``out`` an empty folder for a run of ``generator`` (see the module docstring);
    ``owned``: the top-level files and folders the generator writes."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f'--out {out} is a file, not a folder')
    if out.is_dir() and any(out.iterdir()):
        manifest = read_manifest(out)
        if manifest is None or manifest.get('generator') != generator:
            raise FileExistsError(
                f'--out {out} is not empty and has no {MANIFEST} of {generator}: it is not a '
                'previous output of this generator. Choose a new or empty folder, or remove it.')
        foreign = sorted(p.name for p in out.iterdir() if p.name not in (*owned, MANIFEST))
        if foreign:
            raise FileExistsError(
                f'--out {out} holds a previous output of {generator} and also {foreign}, which '
                f'{generator} does not write; nothing was removed. Move them away first.')
        (out / MANIFEST).unlink()  # first: a clean-up cut short leaves no finished manifest
        for name in owned:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_output(out: Path, generator: str, owned: Sequence[str], params: Dict[str, Any],
                 write: Callable[[Path], None]) -> Path:
    """Prepare ``out`` (:func:`prepare_output`), record ``params`` in an unfinished manifest,
    ``write(out)`` the data, then mark the manifest finished. Returns ``out``."""
    seed = params.get('seed', 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f'--seed must be a whole number of 0 or more, got {seed!r}')
    out = prepare_output(out, generator, owned)
    write_manifest(out, generator, params, complete=False)
    write(out)
    write_manifest(out, generator, params, complete=True)
    return out


def main(description: str, generator: str, generate: Callable[..., Path], out: str,
         counts: Tuple[int, int], unit: str, size: Size, size_range: Tuple[int, int],
         extra: Optional[Dict[str, Tuple[int, str]]] = None) -> None:
    """The command line of a generator: ``--out``, ``--num-train``, ``--num-val`` (defaults
    ``counts``, in ``unit``), ``--seed``, ``--reuse``, ``--size`` (one side, or ``H W`` when
    ``size`` is a pair) and the whole-number options ``extra`` (name: (default, help)), passed
    to ``generate`` by name. Prints what was written (or kept) with which parameters."""
    parser = argparse.ArgumentParser(
        description=description,
        epilog=f'OUT gets a {MANIFEST} with the parameters of the run. A second run into the '
        'same folder first removes what the previous run of this generator wrote there, so two '
        'runs never mix; a non-empty folder without this generator\'s manifest, or with files '
        'the generator does not write, is refused and left as it is.')
    parser.add_argument('--out', default=out,
                        help='output folder: new, empty, or a previous output of this '
                        'generator (cleared first); any other folder is refused')
    parser.add_argument('--num-train', type=int, default=counts[0],
                        help=f'training {unit} (1 or more)')
    parser.add_argument('--num-val', type=int, default=counts[1],
                        help=f'validation {unit} (1 or more)')
    for name, (default, text) in (extra or {}).items():
        parser.add_argument('--' + name.replace('_', '-'), type=int, default=default, help=text)
    pair = isinstance(size, (tuple, list))
    parser.add_argument('--size', type=int, default=size, nargs=2 if pair else None,
                        metavar=('H', 'W') if pair else None,
                        help=('image height and width' if pair else 'image side') +
                        ' in pixels ({}-{})'.format(*size_range))
    parser.add_argument('--seed', type=int, default=0, help='random seed (0 or more)')
    parser.add_argument('--reuse', action='store_true',
                        help=f'keep OUT as it is when its {MANIFEST} shows a finished run of '
                        'this generator with the same parameters')
    args = parser.parse_args()
    params = dict(num_train=args.num_train, num_val=args.num_val,
                  **{name: getattr(args, name) for name in extra or {}},
                  size=list(args.size) if pair else args.size, seed=args.seed)
    summary = f'{args.num_train} train + {args.num_val} val {unit} (' + ', '.join(
        f'{name} {value}' for name, value in params.items()
        if name not in ('num_train', 'num_val')) + f') in {args.out}'
    if args.reuse and is_same_output(Path(args.out), generator, params):
        print(f'kept (same parameters) {summary}')
        return
    try:
        generate(Path(args.out), **params)
    except (ValueError, FileExistsError, NotADirectoryError) as error:
        parser.error(str(error))
    print(f'wrote {summary}')
