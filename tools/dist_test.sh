#!/usr/bin/env bash
# Distributed testing with PyTorch's launcher (torchrun) and the test script the library
# ships (the one `mim test` runs):
#
#   bash tools/dist_test.sh LIB CONFIG CHECKPOINT GPUS [test.py arguments]
#   bash tools/dist_test.sh mmsegmentation configs/seg/fpn_uniformer_s_80k.py fpn_s.pth 8
#
# LIB: mmpretrain, mmaction2 (or mmaction), mmdet, mmsegmentation (or mmseg), mmpose.
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: bash $0 LIB CONFIG CHECKPOINT GPUS [test.py arguments]" >&2
    exit 2
fi
LIB=$1
CONFIG=$2
CHECKPOINT=$3
GPUS=$4
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# the library's packaged script (<package>/.mim/tools/test.py; an error names what is wrong)
SCRIPT=$("$PYTHON" "$ROOT/tools/misc/library_script.py" "$LIB" test)

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$SCRIPT" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:5}"
