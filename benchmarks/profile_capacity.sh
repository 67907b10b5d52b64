#!/usr/bin/env bash
# Where a capacity run's CPU goes: one `python -m benchmarks.capacity --streams N` run, profiled from outside.
#
#   bash benchmarks/profile_capacity.sh [STREAMS] [SECONDS] [benchmark arguments]   (defaults: 20 streams, 8 s sampled)
#
# While the streams run, it counts the process's context switches per second (all threads, from /proc) and samples
# its CPU with Linux perf (499 Hz, every thread) to print the share of each library: the kernel (mostly switching
# threads), libpython (the interpreter, under the GIL), libvpx (VP8), cv2, LiteRT (the models). Settings come from
# the environment as for the benchmark; further arguments go to it (e.g. --tune frame_threads=0). Needs `perf` (linux-tools), which is not a
# project dependency, and permission to attach to the process (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail
streams=${1:-20}
seconds=${2:-8}
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
command -v perf >/dev/null || { echo "perf is not installed (linux-tools)" >&2; exit 2; }
out=$(mktemp -d)
"$python" -m benchmarks.capacity --streams "$streams" --seconds $((seconds + 6)) --warmup 5 "${@:3}" >"$out/capacity.txt" 2>&1 &
pid=$!
sleep 10  # models loaded, streams started and warmed up
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
before=$(switches)
perf record -q -F 499 -p "$pid" -o "$out/perf.data" -- sleep "$seconds" >/dev/null 2>&1
after=$(switches)
wait "$pid"
echo "context switches per second: $(( (after - before) / seconds ))  ($streams streams, $seconds s sampled)"
perf report -i "$out/perf.data" --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
grep -E "^ +(streams|$streams) " "$out/capacity.txt"
rm -rf "$out"
