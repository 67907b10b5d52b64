"""Load test (loopback only, bounded): simulated students write through the real writer while teachers query.

python -m benchmarks.load --students 50 --seconds 30 [--faults lock|erase] [--fault-seconds 10] [--db URL] --json

Each student submits one observation per second (as a stream at ENGAGE_ANALYSIS_INTERVAL=1 does) from its
own thread; a teacher thread runs the live dashboard's query (last 10 minutes, 10 s windows) in a loop.
The last line is one JSON object with expected, written, stored, lost, dropped, failed, refused and p95_query_ms.
--faults injects a fault halfway: `lock` holds the database's write lock for --fault-seconds (another process
writing), `erase` erases one streaming student's data (their rows are then refused; the others must lose none).
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import emit
from db.lessons import add_participant, create_lesson
from db.queries import emotion_shares, observations_frame
from db.session import open_database
from db.writer import ObservationWriter
from engine.types import EMOTIONS, Box, Observation, Prediction


def student(writer: ObservationWriter, lesson_id: int, pid: int, seconds: int, start: float, index: int) -> None:
    probs = tuple(0.4 if e == EMOTIONS[index % 7] else 0.1 for e in EMOTIONS)
    for tick in range(seconds):
        delay = start + tick + (index % 10) / 10 - time.monotonic()  # spread students across each second
        if delay > 0:
            time.sleep(delay)
        writer.submit(lesson_id, pid, Observation(datetime.now(UTC), 1, Box(100, 80, 120, 120),
                                                  Prediction(EMOTIONS, probs), "load-test"))


def teacher(sessions, lesson_id: int, stop: threading.Event, timings: list[float]) -> None:  # type: ignore[no-untyped-def]
    while not stop.is_set():
        began = time.perf_counter()
        with sessions() as s:
            emotion_shares(observations_frame(s, lesson_id, since=datetime.now(UTC) - timedelta(minutes=10)), "10s")
        timings.append((time.perf_counter() - began) * 1000)
        stop.wait(1.0)  # the dashboard refreshes every few seconds; one query a second is a busy teacher


def inject(fault: str, engine, sessions, lesson_id: int, victim: int, hold: float) -> None:  # type: ignore[no-untyped-def]
    """The fault, halfway through the run, on the caller's thread."""
    from db.retention import delete_participant_data

    if fault == "erase":
        with sessions.begin() as s:
            delete_participant_data(s, victim)
        return
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("LOCK TABLE observations IN EXCLUSIVE MODE")
        time.sleep(hold)
        conn.exec_driver_sql("COMMIT")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=50)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--teachers", type=int, default=2)
    p.add_argument("--db", default="", help="SQLAlchemy URL (default: a new SQLite file in a temporary folder)")
    p.add_argument("--faults", choices=("none", "lock", "erase"), default="none")
    p.add_argument("--fault-seconds", type=float, default=10.0, help="how long --faults lock holds the lock")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'load.db'}"
        engine, sessions = open_database(url)
        with sessions.begin() as s:
            lesson = create_lesson(s, f"load test {datetime.now(UTC):%H:%M:%S}", start=True)
            lesson_id = lesson.id
            pids = [add_participant(s, lesson, f"sim-{i}", consent=True).id for i in range(args.students)]
        writer = ObservationWriter(sessions)
        stop, timings = threading.Event(), []  # type: ignore[var-annotated]
        teachers = [threading.Thread(target=teacher, args=(sessions, lesson_id, stop, timings)) for _ in range(args.teachers)]
        start = time.monotonic()
        students = [threading.Thread(target=student, args=(writer, lesson_id, pid, args.seconds, start, i))
                    for i, pid in enumerate(pids)]
        for t in teachers + students:
            t.start()
        if args.faults != "none":
            time.sleep(args.seconds / 2)
            inject(args.faults, engine, sessions, lesson_id, pids[0], args.fault_seconds)
        for t in students:
            t.join()
        writer.close(timeout=60)
        stop.set()
        for t in teachers:
            t.join()
        with sessions() as s:
            stored = len(observations_frame(s, lesson_id))
        engine.dispose()
    stats = writer.stats
    expected = (args.students - (args.faults == "erase")) * args.seconds  # an erased student's rows go
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else (timings[0] if timings else 0.0)
    result = {"expected": expected, "written": stats.written, "stored": stored, "lost": expected - stored,
              "dropped": stats.dropped, "failed": stats.failed, "refused": stats.refused, "faults": args.faults,
              "queries": len(timings), "p95_query_ms": round(p95, 1),
              "database": url.split(":", 1)[0]}
    table = (f"{args.students} students x {args.seconds} s at 1 observation/s, {args.teachers} teachers querying\n"
             f"expected {expected}  written {stats.written}  stored {stored}  lost {result['lost']}  "
             f"dropped {stats.dropped}  failed {stats.failed}  refused {stats.refused}  (fault: {args.faults})\n"
             f"teacher query p95 {result['p95_query_ms']} ms over {len(timings)} queries")
    emit(result, table, args.json)
    return 0 if result["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
