#!/usr/bin/env bash
# Training on a Slurm cluster: one task per GPU, mmengine's `slurm` launcher reads the
# rank and world size from Slurm's environment.
#
#   bash tools/slurm_train.sh PARTITION JOB_NAME LIB CONFIG WORK_DIR [train.py arguments]
#   GPUS=16 bash tools/slurm_train.sh dev uniformer_b mmpretrain configs/cls/uniformer_b_in1k.py work_dirs/b
#
# LIB: mmpretrain, mmaction2 (or mmaction), mmdet, mmsegmentation (or mmseg), mmpose.
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options).
set -euo pipefail
if [ $# -lt 5 ]; then
    echo "usage: bash $0 PARTITION JOB_NAME LIB CONFIG WORK_DIR [train.py arguments]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
LIB=$3
CONFIG=$4
WORK_DIR=$5
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# the library's packaged script: <package>/.mim/tools/train.py
SCRIPT=$("$PYTHON" - "$LIB" <<'PY'
import importlib.util
import os.path as osp
import sys
names = {'mmaction2': 'mmaction', 'mmsegmentation': 'mmseg', 'mmpretrain': 'mmpretrain',
         'mmaction': 'mmaction', 'mmseg': 'mmseg', 'mmdet': 'mmdet', 'mmpose': 'mmpose'}
lib = sys.argv[1]
if lib not in names:
    sys.exit(f'unknown library {lib!r}; accepted: {", ".join(sorted(names))}')
spec = importlib.util.find_spec(names[lib])
if spec is None:
    sys.exit(f'{lib} is not installed (pip install it, or run tools/setup_env.sh)')
script = osp.join(osp.dirname(spec.origin), '.mim', 'tools', 'train.py')
if not osp.isfile(script):
    sys.exit(f'{lib} has no packaged train script at {script}')
print(script)
PY
)

# shellcheck disable=SC2086  # SRUN_ARGS holds several options
PYTHONPATH="$ROOT":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$SCRIPT" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "${@:6}"
