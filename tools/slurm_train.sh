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
# the library's packaged script (<package>/.mim/tools/train.py; an error names what is wrong)
SCRIPT=$("$PYTHON" "$ROOT/tools/misc/library_script.py" "$LIB" train)

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
