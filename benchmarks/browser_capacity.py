"""Checks benchmarks.capacity's per-stream cost against real students: headless Chromium streaming to the real app.

python -m benchmarks.browser_capacity [--students 3] [--seconds 20] [--set ENGAGE_X=VALUE ...] [--json]

K Chromium students (fake camera: the astronaut still, 320x240 at 10 fps, the app's default capture) join one
lesson of the real app (Streamlit, streamlit-webrtc, aiortc, default settings) inside `unshare -n`. The app
process's CPU use is sampled idle and while all K stream; (streaming - idle) / K is the real cost per stream.
Then benchmarks.capacity's simulation runs K streams in this process, and the two per-stream costs are compared.
Chromium runs on the same machine, so only the app process's CPU time is counted. Needs root, chromium, iproute2.
`--set` gives a setting to both the app and the simulation (the app otherwise ignores this shell's ENGAGE_*).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiortc  # noqa: F401  (before anything imports TensorFlow)
from sqlalchemy import func, select

from benchmarks.capacity.media import clip_kbps
from benchmarks.capacity.trial import run_trial, stream_inputs
from benchmarks.common import astronaut, emit, frame_of
from dashboard.streaming import tune_webrtc
from db.accounts import create_user
from db.lessons import create_lesson
from db.schema import ObservationRow
from db.session import open_database
from settings import Settings
from tests.browser.harness.run import STAFF, make_clip, missing_tools, run_scenario


def browser_run(students: int, seconds: float, settings: Settings, tmp: Path,
                overrides: dict[str, str]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'data' / 'engagement.db'}"
    (tmp / "data").mkdir()
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, STAFF["username"], STAFF["password"], "teacher")
        code = create_lesson(s, "browser capacity", owner=STAFF["username"], start=True).join_code
    scene = frame_of(astronaut(), settings.video_width, settings.video_height)
    clip = make_clip(tmp / "student.y4m", scene, seconds=2, fps=settings.video_fps)
    result = run_scenario(tmp, db_url=url, data_dir=tmp / "data", join_code=code, stream_seconds=8,
                          students=[{"name": f"student {i}", "clip": str(clip)} for i in range(students)],
                          shots_dir=tmp / "shots", measure_seconds=seconds, env_overrides={"ENGAGE_ANALYSIS_INTERVAL": "1.0", **overrides})
    start = datetime.fromtimestamp(result["measured_from"], UTC)
    end = datetime.fromtimestamp(result["measured_to"], UTC)
    with sessions() as s:
        per_student = s.execute(select(func.count()).select_from(ObservationRow).where(  # per participant
            ObservationRow.ts >= start, ObservationRow.ts < end).group_by(ObservationRow.participant_id)).scalars().all()
    window = (end - start).total_seconds()
    return {"app_idle_cores": round(result["app_idle_cores"], 3), "app_streaming_cores": round(result["app_streaming_cores"], 3),
            "kbps_per_stream": round(result["loopback_kbps"] / students, 1),  # both directions, pages included
            "packets_per_s_per_stream": round(result["loopback_packets_per_s"] / students, 1),
            "app_resident_mb": result["app_resident_mb"],  # each app process (instances and supervisor) after streaming
            "students_recorded": len(per_student),  # students with records in the window
            "min_observations_per_s": round(min(per_student, default=0) / window, 2) if len(per_student) == students else 0.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.browser_capacity", description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0, help="measured window")
    p.add_argument("--set", action="append", default=[], metavar="ENGAGE_X=VALUE", help="a setting for app and simulation")
    p.add_argument("--keep", type=Path, help="an empty folder to keep the run in (app log, screenshots, database)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if any("=" not in item or not item.startswith("ENGAGE_") for item in args.set):
        p.error("--set takes ENGAGE_<SETTING>=VALUE")
    overrides = dict(item.split("=", 1) for item in args.set)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    missing = missing_tools()
    if missing:
        print(f"cannot run real browsers here: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    os.environ.update(overrides)
    settings = Settings.from_env()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        real = browser_run(args.students, args.seconds, settings, args.keep, overrides)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            real = browser_run(args.students, args.seconds, settings, Path(tmp), overrides)
    settings.tune_process()
    tune_webrtc(settings)
    classifier, mesh, packets = stream_inputs(settings)
    sim = run_trial(args.students, settings, classifier, mesh, packets, args.seconds, 5.0, 66.0)
    real_per_stream = (real["app_streaming_cores"] - real["app_idle_cores"]) / args.students
    sim_per_stream = sim.cpu_cores / args.students
    result = {"students": args.students, **real, "real_cores_per_stream": round(real_per_stream, 4),
              "simulated_cores_per_stream": round(sim_per_stream, 4),
              "real_vs_simulated": round(real_per_stream / sim_per_stream, 2) if sim_per_stream else None,
              "simulated_min_analyses_per_s": sim.min_analyses_per_s,
              "simulated_clip_kbps": clip_kbps(packets, settings.video_fps),
              "video": f"{settings.video_width}x{settings.video_height}@{settings.video_fps}", "settings": overrides}
    lines = [f"{'':<26}{'real (Chromium)':>16}{'simulated':>12}",
             f"{'cores per stream':<26}{real_per_stream:>16.3f}{sim_per_stream:>12.3f}",
             f"{'analyses/s (worst)':<26}{real['min_observations_per_s']:>16.2f}{sim.min_analyses_per_s:>12.2f}",
             f"real / simulated: {result['real_vs_simulated']}  ({args.students} students, {result['video']}; "
             f"app idle {real['app_idle_cores']:.3f} cores subtracted)",
             f"real traffic per stream (loopback, both ways, pages included): {real['kbps_per_stream']:.0f} kbit/s, "
             f"{real['packets_per_s_per_stream']:.0f} packets/s; a simulated stream receives {result['simulated_clip_kbps']:.0f} kbit/s",
             f"app memory at the end of the window (resident, per process): "
             f"{', '.join(f'{mb:.0f}' for mb in real['app_resident_mb'])} MB"]
    if real["students_recorded"] < args.students:
        lines.append(f"WARNING: only {real['students_recorded']} of {args.students} students sent records in the window; "
                     "the real cost per stream is understated (see --keep)")
    emit(result, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
