#!/usr/bin/env bash
# Video quick start in one command: set up the environment, make the embedded default video
# data, train a tiny 3-D UniFormer with mmaction2 on it, test it and print the accuracy and
# the wall time.
#
#   bash tools/quickstart_video.sh
#
# Environment: MMUNIFORMER_VENV (venv, default ~/.venvs/mmuniformer, as tools/setup_env.sh),
# QUICKSTART_WORK_DIR (default work_dirs/quickstart_video). Data: data/motion_video (made if
# missing). On 2 CPU cores the data, training and test take a few minutes; a GPU is used when
# there is one.
set -euo pipefail

start=$(date +%s)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
venv=${MMUNIFORMER_VENV:-$HOME/.venvs/mmuniformer}
config=projects/quickstart/configs/uniformer_tiny_motion.py
data_root=data/motion_video
work_dir=${QUICKSTART_WORK_DIR:-work_dirs/quickstart_video}

log() { printf '[quickstart_video] %s\n' "$*"; }

log "setting up the environment (fast when it is already complete)"
bash tools/setup_env.sh
# shellcheck disable=SC1091
. "$venv/bin/activate"

data_start=$(date +%s)
if [ -f "$data_root/classes.txt" ]; then
  log "using the existing data in $data_root"
else
  log "generating the motion_video data in $data_root"
  python tools/data/make_motion_video.py --out "$data_root"
fi
data_end=$(date +%s)

mkdir -p "$work_dir"
train_start=$(date +%s)
log "training: mim train mmaction2 $config --work-dir $work_dir"
mim train mmaction2 "$config" --work-dir "$work_dir" 2>&1 | tee "$work_dir/quickstart_train.log"
train_end=$(date +%s)

# mmengine records the path of the last checkpoint it saved in WORK_DIR/last_checkpoint.
checkpoint=$(cat "$work_dir/last_checkpoint")
log "testing: mim test mmaction2 $config --checkpoint $checkpoint"
mim test mmaction2 "$config" --checkpoint "$checkpoint" --work-dir "$work_dir" 2>&1 \
  | tee "$work_dir/quickstart_test.log"
end=$(date +%s)

accuracy=$(grep -o 'acc/top1: [0-9.]*' "$work_dir/quickstart_test.log" | tail -n 1 | cut -d' ' -f2)
if [ -z "$accuracy" ]; then
  log "no top-1 accuracy found in $work_dir/quickstart_test.log"
  exit 1
fi
percent=$(python -c "print(f'{100 * float(\"$accuracy\"):.1f}')")
log "checkpoint: $checkpoint"
log "top-1 accuracy on the val split (8 motion classes, chance 12.5%): ${percent}%"
log "wall time: data $((data_end - data_start)) s, training $((train_end - train_start)) s," \
    "test $((end - train_end)) s, total $((end - start)) s"
