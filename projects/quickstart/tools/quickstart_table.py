"""The closing table of ``tools/quickstart.sh``: one row per task and metric with the
untrained and the trained model's score (read from their ``mim test`` logs) and the wall time.

    python projects/quickstart/tools/quickstart_table.py \
        --row TASK UNTRAINED_LOG TRAINED_LOG SECONDS [--row ...]

Scores are the last value of each metric in a log, in percent. A log without one of its
task's metrics is an error (exit status 1), so a broken quick start cannot print a table.
"""
import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# task -> [(metric name, regex of the value in an mmengine test log, factor to percent)]
METRICS: Dict[str, List[Tuple[str, str, float]]] = {
    'cls': [('top-1 accuracy (%)', r'accuracy/top1: (-?[0-9.]+)', 1.)],
    'video': [('top-1 accuracy (%)', r'acc/top1: (-?[0-9.]+)', 100.)],
    'det': [('box mAP (%)', r'coco/bbox_mAP: (-?[0-9.]+)', 100.),
            ('mask mAP (%)', r'coco/segm_mAP: (-?[0-9.]+)', 100.)],
    'seg': [('mIoU (%)', r'mIoU: (-?[0-9.]+)', 1.)],
    'pose': [('keypoint AP (%)', r'coco/AP: (-?[0-9.]+)', 100.)],
}
HEADER = ('task', 'metric', 'untrained', 'trained', 'wall time')


def read_metrics(task: str, log: str) -> List[Tuple[str, float]]:
    """``[(metric, percent)]`` of ``task`` from the text of a test log (last value of each)."""
    if task not in METRICS:
        raise ValueError(f'unknown task {task!r}; known: {sorted(METRICS)}')
    values = []
    for name, pattern, factor in METRICS[task]:
        found = re.findall(pattern, log)
        if not found:
            raise ValueError(f'{task}: no {name} ({pattern!r}) in the log')
        values.append((name, float(found[-1]) * factor))
    return values


def rows(task: str, untrained_log: str, trained_log: str, seconds: float) -> List[Tuple[str, ...]]:
    """Table rows of one task: task, metric, untrained, trained, wall time."""
    before, after = read_metrics(task, untrained_log), read_metrics(task, trained_log)
    out = []
    for k, ((name, a), (_, b)) in enumerate(zip(before, after)):
        out.append((task if k == 0 else '', name, f'{a:.1f}', f'{b:.1f}',
                    f'{seconds:.0f} s' if k == 0 else ''))
    return out


def format_table(table: Sequence[Tuple[str, ...]]) -> str:
    """Markdown table with a header."""
    lines = [HEADER] + list(table)
    widths = [max(len(r[i]) for r in lines) for i in range(len(HEADER))]
    fmt = lambda r: '| ' + ' | '.join(c.ljust(w) for c, w in zip(r, widths)) + ' |'  # noqa: E731
    return '\n'.join([fmt(HEADER), '|' + '|'.join('-' * (w + 2) for w in widths) + '|'] +
                     [fmt(r) for r in table])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--row', nargs=4, action='append', required=True,
                        metavar=('TASK', 'UNTRAINED_LOG', 'TRAINED_LOG', 'SECONDS'))
    args = parser.parse_args(argv)
    table = []
    try:
        for task, untrained, trained, seconds in args.row:
            table += rows(task, Path(untrained).read_text(errors='replace'),
                          Path(trained).read_text(errors='replace'), float(seconds))
    except (ValueError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(format_table(table))
    return 0


if __name__ == '__main__':
    sys.exit(main())
