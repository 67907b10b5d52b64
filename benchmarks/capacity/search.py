"""Finding the largest N that passes (steps, then bisection), and running each N as several copies side by side
(one per app process, as dashboard.serve starts them)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.capacity.judging import Trial

log = logging.getLogger(__name__)


def search(try_n, step: int, limit: int) -> tuple[int, list[Trial]]:  # type: ignore[no-untyped-def]
    """The largest passing N: rise by `step` until a failure (or `limit`), then bisect the gap."""
    trials: list[Trial] = []
    best, n = 0, min(step, limit)
    failed_at = None
    while n <= limit:
        trial = try_n(n)
        trials.append(trial)
        if not trial.passed:
            failed_at = n
            break
        best = n
        n += step
    if failed_at is not None:
        lo, hi = best, failed_at
        while hi - lo > 1:
            mid = (lo + hi) // 2
            trial = try_n(mid)
            trials.append(trial)
            lo, hi = (mid, hi) if trial.passed else (lo, mid)
        best = lo
    return best, trials


def split_streams(n: int, processes: int) -> list[int]:
    """N streams spread over `processes` copies as evenly as possible (the first copies take the remainder); a copy
    with no stream is left out."""
    base, extra = divmod(n, processes)
    return [count for count in (base + (i < extra) for i in range(processes)) if count > 0]


def combine(trials: list[Trial]) -> Trial:
    """One run of several copies side by side: the worst stream of any copy, the cores of all, their threads summed.
    `other` is what the machine kept busy beyond all the copies (each copy counts its siblings as other)."""
    cores = sum(t.cpu_cores for t in trials)
    busy = sum(t.other_cores + t.cpu_cores for t in trials) / len(trials)  # each copy's view of the whole machine
    threads: dict[str, dict[str, float]] = {}
    for t in trials:
        for name, group in t.threads.items():
            total = threads.setdefault(name, {"threads": 0, "switches_per_s": 0, "cores": 0.0})
            for key, value in group.items():
                total[key] = round(total.get(key, 0) + value, 3)
    return Trial(
        streams=sum(t.streams for t in trials), passed=all(t.passed for t in trials),
        p95_callback_ms=max(t.p95_callback_ms for t in trials),
        min_analyses_per_s=min(t.min_analyses_per_s for t in trials),
        min_received_fps=min(t.min_received_fps for t in trials), min_output_fps=min(t.min_output_fps for t in trials),
        cpu_cores=round(cores, 2), cpu_share=round(sum(t.cpu_share for t in trials), 3),
        errors=sum(t.errors for t in trials), p95_latency_ms=max(t.p95_latency_ms for t in trials),
        p95_loop_lag_ms=max(t.p95_loop_lag_ms for t in trials),
        p95_content_age_ms=max(t.p95_content_age_ms for t in trials), min_sent_fps=min(t.min_sent_fps for t in trials),
        threads=threads, other_cores=round(max(busy - cores, 0.0), 2), steal_cores=max(t.steal_cores for t in trials))


def run_copies(n: int, processes: int, child_args: list[str]) -> Trial:
    """N streams as copies of this benchmark run side by side, each in its own process (its own interpreter and GIL),
    with this process's environment (so the same settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i, count in enumerate(split_streams(n, processes)):
            out, err = Path(tmp, f"{i}.out"), Path(tmp, f"{i}.err")
            with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: a full pipe would stall a copy
                command = [sys.executable, "-m", "benchmarks.capacity", "--streams", str(count), "--processes", "1",
                           "--json", *child_args]
                runs.append((subprocess.Popen(command, stdout=stdout, stderr=stderr), out, err))
        trials = []
        try:
            for proc, out, err in runs:
                if proc.wait() != 0:
                    raise RuntimeError(f"a copy exited with {proc.returncode}: {err.read_text()[-2000:]}")
                trials.append(Trial(**json.loads(out.read_text().strip().splitlines()[-1])["trials"][0]))
        finally:
            for proc, _, _ in runs:  # after a failed copy, the others are not left running
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return combine(trials)
