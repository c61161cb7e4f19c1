#!/usr/bin/env bash
# Quick start in one command: set up the environment, then for every task make its embedded
# default data, train a tiny UniFormer on it with `mim train`, test the untrained and the trained
# model with `mim test`, and end with one table: task, metric, untrained, trained, wall time.
#
#   bash tools/quickstart.sh                 # every task: cls, video, det, seg, pose
#   bash tools/quickstart.sh --task det      # one task (repeat --task for several)
#
# (tools/quickstart.sh runs this script, projects/quickstart/tools/quickstart.sh.)
# Tasks (config, data made by a generator in projects/quickstart/tools/data/):
#   cls    mmpretrain  projects/quickstart/configs/uniformer_tiny_shapes.py        data/shapes_cls
#   video  mmaction2   projects/quickstart/configs/uniformer_tiny_motion.py        data/motion_video
#   det    mmdet       projects/quickstart/configs/mask_rcnn_uniformer_tiny_shapes_coco.py
#                                                                                  data/shapes_coco
#          (its backbone starts from the cls quick start's checkpoint: cls runs first if needed)
#   seg    mmsegmentation  projects/quickstart/configs/fpn_uniformer_tiny_shapes_ade.py
#                                                                                  data/shapes_ade
#   pose   mmpose  projects/quickstart/configs/topdown_uniformer_tiny_stick_coco.py
#                                                                                  data/stick_coco
# Environment: MMUNIFORMER_VENV (venv, default ~/.venvs/mmuniformer, as tools/setup_env.sh),
# QUICKSTART_WORK_DIR (default work_dirs/quickstart; one sub-folder per task),
# QUICKSTART_SKIP_SETUP=1 skips tools/setup_env.sh (an environment that is already complete).
# Data folders are regenerated unless their manifest.json shows the generator's default
# parameters (so a smaller dataset made by hand is never mistaken for the quick start's).
# On 2 CPU cores each task takes a few minutes; a GPU is used when there is one.
set -euo pipefail

all_tasks=(cls video det seg pose)
tasks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --task)
      [ $# -ge 2 ] || { echo "--task needs a value: ${all_tasks[*]}" >&2; exit 2; }
      tasks+=("$2"); shift 2 ;;
    --task=*) tasks+=("${1#--task=}"); shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown argument '$1'; usage: bash tools/quickstart.sh [--task ${all_tasks[*]// /|}]" >&2
       exit 2 ;;
  esac
done
[ ${#tasks[@]} -gt 0 ] || tasks=("${all_tasks[@]}")
for task in "${tasks[@]}"; do
  case " ${all_tasks[*]} " in
    *" $task "*) ;;
    *) echo "unknown task '$task'; choose from: ${all_tasks[*]}" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$here"
venv=${MMUNIFORMER_VENV:-$HOME/.venvs/mmuniformer}
work_root=${QUICKSTART_WORK_DIR:-work_dirs/quickstart}

# The det quick start's backbone starts from the cls quick start's checkpoint (as COCO
# detectors start from ImageNet): cls runs first when det is asked for and that is missing.
# Tasks run in the order of all_tasks (cls first), whatever the order of the --task options.
cls_checkpoint="$work_root/cls/epoch_12.pth"
if [[ " ${tasks[*]} " == *" det "* && ! -f "$cls_checkpoint" ]]; then
  tasks+=(cls)
fi
ordered=()
for task in "${all_tasks[@]}"; do
  [[ " ${tasks[*]} " == *" $task "* ]] && ordered+=("$task")
done
tasks=("${ordered[@]}")

log() { printf '[quickstart] %s\n' "$*"; }

if [ "${QUICKSTART_SKIP_SETUP:-0}" != 1 ]; then
  log "setting up the environment (fast when it is already complete)"
  bash tools/setup_env.sh
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"

# One intra-op thread: the models are tiny, and on a small CPU shared with other jobs (or
# with the data-loading worker) torch's multi-threaded ops wait on each other at every op.
# Measured on 2 busy cores: 0.1-0.2 s per classification iteration with 1 thread, 1-2 s with 2.
# Set OMP_NUM_THREADS yourself to override.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

project=projects/quickstart
# task -> "library config data_root generator"
spec() {
  case "$1" in
    cls) echo "mmpretrain $project/configs/uniformer_tiny_shapes.py data/shapes_cls" \
              "$project/tools/data/make_shapes_cls.py" ;;
    video) echo "mmaction2 $project/configs/uniformer_tiny_motion.py data/motion_video" \
                "$project/tools/data/make_motion_video.py" ;;
    det) echo "mmdet $project/configs/mask_rcnn_uniformer_tiny_shapes_coco.py data/shapes_coco" \
              "$project/tools/data/make_coco_instances.py" ;;
    seg) echo "mmsegmentation $project/configs/fpn_uniformer_tiny_shapes_ade.py data/shapes_ade" \
              "$project/tools/data/make_ade_seg.py" ;;
    pose) echo "mmpose $project/configs/topdown_uniformer_tiny_stick_coco.py data/stick_coco" \
               "$project/tools/data/make_coco_keypoints.py" ;;
  esac
}

rows=()
for task in "${tasks[@]}"; do
  read -r lib config data_root generator <<< "$(spec "$task")"
  work_dir="$work_root/$task"
  mkdir -p "$work_dir"
  start=$(date +%s)
  # the generator keeps the folder when its manifest shows the same (default) parameters,
  # regenerates its own earlier output otherwise, and refuses a folder it did not write
  log "$task: data in $data_root"
  python "$generator" --out "$data_root" --reuse

  options=()
  if [ "$task" = det ]; then
    options=(--cfg-options "model.backbone.init_cfg.checkpoint=$cls_checkpoint")
  fi

  log "$task: mim test $lib with the untrained model"
  python tools/misc/untrained_checkpoint.py "$config" "$work_dir/untrained.pth" "${options[@]}"
  mim test "$lib" "$config" --checkpoint "$work_dir/untrained.pth" --work-dir "$work_dir" 2>&1 \
    | tee "$work_dir/test_untrained.log"

  log "$task: mim train $lib $config --work-dir $work_dir"
  mim train "$lib" "$config" --work-dir "$work_dir" "${options[@]}" 2>&1 | tee "$work_dir/train.log"
  # mmengine records the path of the last checkpoint it saved in WORK_DIR/last_checkpoint.
  checkpoint=$(cat "$work_dir/last_checkpoint")
  log "$task: mim test $lib $config --checkpoint $checkpoint"
  mim test "$lib" "$config" --checkpoint "$checkpoint" --work-dir "$work_dir" 2>&1 \
    | tee "$work_dir/test_trained.log"
  end=$(date +%s)
  rows+=(--row "$task" "$work_dir/test_untrained.log" "$work_dir/test_trained.log"
         "$((end - start))")
done

log "results (val splits of the generated data; wall time: data, training and both tests)"
python "$project/tools/quickstart_table.py" "${rows[@]}" | tee "$work_root/results.md"
