#!/usr/bin/env bash
# Distributed training on one or more machines with PyTorch's launcher (torchrun) and the
# training script the library ships (the one `mim train` runs):
#
#   bash tools/dist_train.sh LIB CONFIG GPUS [train.py arguments]
#   bash tools/dist_train.sh mmpretrain configs/cls/uniformer_s_in1k.py 8 --amp
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh mmdet CONFIG 8
#
# LIB: mmpretrain, mmaction2 (or mmaction), mmdet, mmsegmentation (or mmseg), mmpose.
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
# The same as `mim train LIB CONFIG --launcher pytorch --gpus GPUS`, which uses the
# deprecated torch.distributed.launch and one machine only.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 LIB CONFIG GPUS [train.py arguments]" >&2
    exit 2
fi
LIB=$1
CONFIG=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# the library's packaged script (<package>/.mim/tools/train.py; an error names what is wrong)
SCRIPT=$("$PYTHON" "$ROOT/tools/misc/library_script.py" "$LIB" train)

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$SCRIPT" "$CONFIG" --launcher pytorch "${@:4}"
