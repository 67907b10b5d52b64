"""The command line: python -m benchmarks.capacity (see the package's docstring)."""
from __future__ import annotations

import argparse
import logging
import os
from dataclasses import asdict, replace

import benchmarks.capacity as package
from benchmarks.capacity.judging import Trial
from benchmarks.capacity.media import clip_kbps
from benchmarks.capacity.search import run_copies, search
from benchmarks.capacity.trial import run_trial, stream_inputs
from benchmarks.common import emit
from dashboard.streaming import tune_webrtc
from settings import Settings, SettingsError, Tuning

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.capacity", description=(package.__doc__ or "").splitlines()[0])
    p.add_argument("--streams", type=int, default=0, help="run this many streams once instead of searching")
    p.add_argument("--step", type=int, default=10)
    p.add_argument("--max-streams", type=int, default=200, help="the search stops here")
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--p95-ms", type=float, default=66.0)
    p.add_argument("--inline-analysis", action="store_true", help="analyse in each stream's callback (no shared worker)")
    p.add_argument("--no-tuning", action="store_true", help="keep Python's and OpenCV's thread defaults")
    p.add_argument("--tune", action="append", default=[], metavar="NAME=VALUE",
                   help="run with another value of one of the app's measured choices (settings.Tuning), e.g. "
                        "frame_threads=0; repeatable")
    p.add_argument("--threads-report", action="store_true",
                   help="also print each run's threads by name: context switches per second and cores (Linux)")
    p.add_argument("--processes", type=int, default=0,
                   help="run each N as this many copies side by side, N split between them, as that many app instances "
                        "(0, the default: as many as the app starts, ENGAGE_INSTANCES; 1: one app process)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.processes < 0:
        p.error("--processes takes 0 (as the app) or more")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        settings = replace(Settings.from_env(), tuning=Tuning.parse(args.tune))
    except SettingsError as exc:
        p.error(str(exc))
    args.processes = args.processes or settings.app_instances
    if not args.no_tuning:
        settings.tune_process()
    tune_webrtc(settings)  # as the app does (the incoming clip's bitrate is fixed)
    classifier, mesh, packets = stream_inputs(settings)

    def try_n(n: int) -> Trial:
        if args.processes > 1:
            child_args = ["--seconds", str(args.seconds), "--warmup", str(args.warmup), "--p95-ms", str(args.p95_ms),
                          *(["--inline-analysis"] if args.inline_analysis else []),
                          *(["--no-tuning"] if args.no_tuning else []), *(f"--tune={t}" for t in args.tune)]
            return run_copies(n, args.processes, child_args)
        return run_trial(n, settings, classifier, mesh, packets, args.seconds, args.warmup, args.p95_ms,
                         not args.inline_analysis)

    if args.streams:
        trial = try_n(args.streams)
        best, trials = (trial.streams if trial.passed else 0), [trial]
    else:
        best, trials = search(try_n, args.step, args.max_streams)
    config = {"video": f"{settings.video_width}x{settings.video_height}@{settings.video_fps}",
              "detector": settings.detector, "detect_width": settings.detect_width,
              "detect_interval": settings.detect_interval, "follow_interval": settings.follow_interval,
              "rescan_interval": settings.rescan_interval,
              "analysis_interval": settings.analysis_interval,
              "return_video_kbps": settings.return_video_kbps or "aiortc", **asdict(settings.tuning),
              "clip_kbps": clip_kbps(packets, settings.video_fps),
              "model": classifier.card.name if classifier else "attention-only", "runtime": settings.runtime or "card",
              "attention": mesh is not None, "shared_worker": not args.inline_analysis,
              "tuning": not args.no_tuning,
              "processes": args.processes, "cpus": os.cpu_count()}
    lines = [f"{'streams':>8}{'pass':>7}{'p95 ms':>10}{'delay p95':>10}{'age p95':>10}{'loop lag':>10}{'analyses/s':>11}"
             f"{'in fps':>10}{'out fps':>10}{'sent fps':>10}"
             f"{'cores':>8}{'cpu':>8}{'other':>8}{'steal':>8}"]
    lines += [t.row() for t in trials]
    if args.threads_report:
        for t in trials:
            lines.append(f"threads at {t.streams} streams (switches per second, cores):")
            lines += [f"  {name:<22}{g['threads']:>4} threads{g['switches_per_s']:>9,.0f}/s{g['cores']:>8.3f}"
                      for name, g in t.threads.items()]
    capped = not args.streams and all(t.passed for t in trials)  # stopped by --max-streams: it holds at least this
    at_least = "at least " if capped else ""
    lines.append(f"max_streams {at_least}{best}  ({', '.join(f'{k} {v}' for k, v in config.items())}; worst stream per run; "
                 f"pass: callback and decoded-to-encoded p95 <= {args.p95_ms:g} ms, >= 1 analysis per "
                 f"{settings.analysis_interval:g} s, frames received and sent back at the rate; other: cores the rest of the "
                 f"machine used meanwhile, steal: cores the hypervisor took from this VM)")
    chosen = next((t for t in trials if t.streams == best), None)
    result: dict[str, object] = {
        "max_streams": best, "reached_max_streams": capped, "cpu_cores_at_max": chosen.cpu_cores if chosen else None,
        "cpu_share_at_max": chosen.cpu_share if chosen else None,
        "p95_callback_ms_at_max": chosen.p95_callback_ms if chosen else None,
        "p95_delay_ms_at_max": chosen.p95_latency_ms if chosen else None,
        "p95_loop_lag_ms_at_max": chosen.p95_loop_lag_ms if chosen else None,
        "p95_content_age_ms_at_max": chosen.p95_content_age_ms if chosen else None,
        "config": config, "trials": [t.__dict__ for t in trials]}
    emit(result, "\n".join(lines), args.json)
    return 0
