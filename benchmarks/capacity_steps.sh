#!/usr/bin/env bash
# Before/after for each speed change: benchmarks.capacity under the old settings, then adding one change at a time.
# usage: bash benchmarks/capacity_steps.sh [extra benchmarks.capacity arguments]   (prints each step's table and JSON)
# The ladder in the README was measured with the earlier two-thread simulation and before the return-video cap,
# so every step runs that way (--media threads, ENGAGE_RETURN_VIDEO_KBPS=0); `--media webrtc` after it overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OLD_CAPTURE="ENGAGE_VIDEO_WIDTH=640 ENGAGE_VIDEO_HEIGHT=480 ENGAGE_VIDEO_FPS=15"
OLD_DETECT="ENGAGE_DETECT_WIDTH=320 ENGAGE_DETECT_INTERVAL=0 ENGAGE_FOLLOW_INTERVAL=0 ENGAGE_RESCAN_INTERVAL=0"
OLD_THREADS="ENGAGE_INFERENCE_THREADS=0"
step() {  # step NAME "VAR=VALUE ..." "benchmark flags"
  echo "== $1"
  # shellcheck disable=SC2086
  env ENGAGE_RETURN_VIDEO_KBPS=0 $2 "$PY" -m benchmarks.capacity --json --media threads $3 "${EXTRA[@]}" | tail -n 3
}
EXTRA=("$@")
step "1 before: 640x480@15, full scan every frame, analysis in the callback" \
  "$OLD_CAPTURE $OLD_DETECT $OLD_THREADS" "--inline-analysis --no-tuning"
step "2 + capture 320x240@10" "$OLD_DETECT $OLD_THREADS" "--inline-analysis --no-tuning"
step "3 + scans at 240 px only when needed, faces followed in a small region" "$OLD_THREADS" "--inline-analysis --no-tuning"
step "4 + shared analysis worker" "$OLD_THREADS" "--no-tuning"
step "5 + GIL switch 0.2 ms, one OpenCV and TFLite thread (the defaults)" "" ""
