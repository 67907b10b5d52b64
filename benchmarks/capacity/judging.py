"""Whether a run of simulated students passed (per stream: callback and path delay, analyses, frame rates) and
what it cost (CPU, threads, the rest of the machine)."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.capacity.media import StreamLog

log = logging.getLogger(__name__)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # /proc's CPU times are in these per second


def thread_counters() -> dict[int, tuple[str, int, int]]:
    """Per thread of this process: (its Python name, context switches so far, CPU clock ticks so far), from Linux's
    /proc (empty elsewhere). Threads Python did not start (libraries' own) are named "(native)"."""
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    counters = {}
    for task in Path("/proc/self/task").glob("*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            switches = sum(int(line.split()[1]) for line in (task / "status").read_text().splitlines()
                           if "ctxt_switches:" in line)
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            counters[int(task.name)] = (names.get(int(task.name), "(native)"), switches, int(fields[11]) + int(fields[12]))
    return counters


def machine_ticks() -> tuple[int, int]:
    """The whole machine's CPU clock ticks so far, from Linux's /proc/stat (zeros elsewhere): (busy, stolen), where
    stolen is time the hypervisor gave this VM's virtual CPUs to someone else while they had work."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        return user + nice + system + irq + softirq, steal
    return 0, 0


def thread_report(before: dict[int, tuple[str, int, int]], after: dict[int, tuple[str, int, int]],
                  seconds: float) -> dict[str, dict[str, float]]:
    """Threads grouped by name without their number (recv-3 -> recv): how many, their context switches per second
    and the cores they used over the window, busiest first."""
    groups: dict[str, list[float]] = {}
    for tid, (name, switches, cpu) in after.items():
        if tid not in before:
            continue
        group = re.sub(r"ThreadPoolExecutor-\d+_\d+", "executor", re.sub(r"[-_ ]?\d+$", "", name)) or name
        row = groups.setdefault(group, [0, 0.0, 0.0])
        row[0] += 1
        row[1] += (switches - before[tid][1]) / seconds
        row[2] += (cpu - before[tid][2]) / CLOCK_TICKS / seconds
    ordered = sorted(groups.items(), key=lambda item: -item[1][2])
    return {g: {"threads": int(n), "switches_per_s": round(sw), "cores": round(c, 3)} for g, (n, sw, c) in ordered}


@dataclass(frozen=True)
class Trial:
    streams: int
    passed: bool
    p95_callback_ms: float  # the worst stream's
    min_analyses_per_s: float
    min_received_fps: float
    min_output_fps: float
    cpu_cores: float
    cpu_share: float
    errors: int
    p95_latency_ms: float = 0.0  # the worst stream's decoded-to-encoded delay
    p95_loop_lag_ms: float = 0.0  # how late the shared event loop ran a 10 ms timer
    p95_content_age_ms: float = 0.0  # the worst stream's age of the picture under the overlay when sent (webrtc only)
    min_sent_fps: float = 0.0  # frames sent back per second, the worst stream's
    threads: dict[str, dict[str, float]] = field(default_factory=dict)  # thread_report over the measured window
    other_cores: float = 0.0  # cores the rest of the machine kept busy meanwhile (other processes, the kernel's work)
    steal_cores: float = 0.0  # cores the hypervisor took away from this VM meanwhile (a slower machine for the run)

    def row(self) -> str:
        return (f"{self.streams:>8}{'yes' if self.passed else 'no':>7}{self.p95_callback_ms:>10.1f}"
                f"{self.p95_latency_ms:>10.1f}{self.p95_content_age_ms:>10.1f}{self.p95_loop_lag_ms:>10.1f}"
                f"{self.min_analyses_per_s:>11.2f}{self.min_received_fps:>10.1f}{self.min_output_fps:>10.1f}"
                f"{self.min_sent_fps:>10.1f}"
                f"{self.cpu_cores:>8.2f}{self.cpu_share:>8.0%}{self.other_cores:>8.2f}{self.steal_cores:>8.2f}")


def in_window(values: list[float], start: float, end: float) -> list[float]:
    return [v for v in values if start <= v < end]


def face_rate(analyses: list[tuple[float, int]], start: float, end: float) -> float:
    """Analyses per second of the stream's face: its most-analysed track (a detector's occasional false alarm
    elsewhere in the frame must neither count as the face nor drag its rate down)."""
    per_track: dict[int, list[float]] = {}
    for t, track in analyses:
        if start <= t < end:
            per_track.setdefault(track, []).append(t)
    times = max(per_track.values(), key=len, default=[])
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def judge(logs: list[StreamLog], start: float, end: float, fps: int, interval: float, p95_limit: float) -> dict[str, float]:
    seconds = end - start
    p95s, latencies, ages, rates, received, output, sent = [], [], [], [], [], [], []
    for slog in logs:
        durations = [d for t, d in slog.callback_ms if start <= t < end]
        p95s.append(float(np.percentile(durations, 95)) if durations else float("inf"))
        delays = [d for t, d in slog.latency_ms if start <= t < end]
        latencies.append(float(np.percentile(delays, 95)) if delays else 0.0)
        age = [a for t, a in slog.content_age_ms if start <= t < end]
        ages.append(float(np.percentile(age, 95)) if age else 0.0)
        rates.append(face_rate(slog.analyses, start, end))
        received.append(len(in_window(slog.received, start, end)) / seconds)
        output.append(len(durations) / seconds)
        sent.append(len(in_window(slog.sent, start, end)) / seconds)
    worst = {"p95_callback_ms": max(p95s), "p95_latency_ms": max(latencies), "p95_content_age_ms": max(ages),
             "min_analyses_per_s": min(rates),
             "min_received_fps": min(received), "min_output_fps": min(output), "min_sent_fps": min(sent)}
    worst["passed"] = float(worst["p95_callback_ms"] <= p95_limit and worst["p95_latency_ms"] <= p95_limit
                            and worst["min_analyses_per_s"] >= 0.98 / interval and worst["min_received_fps"] >= 0.95 * fps
                            and worst["min_output_fps"] >= 0.9 * fps and worst["min_sent_fps"] >= 0.9 * fps)
    return worst
