"""Attention on real clips: how often each behaviour is recorded as which attention state, and when the teacher's
*attention needed* banner is up.

python -m benchmarks.attention_clips [--part-seconds 40] [--fps 10] [--keep DIR] [--json]

Three students' webcam clips (benchmarks.webcam_clips: real faces facing the screen, reading below the camera,
eyes shut, turned aside) stream into one live lesson as the app runs them: a StreamProcessor per student with the
app's settings, the default model and FaceMesh, its records written by the app's writer to a SQLite database, on
the clips' clock. Prints, per part, the share of records in each attention state and the share that the eyes'
aspect ratio alone (EAR < 0.2, head pose ignored) would call eyes closed; then the teacher's live view
(services.teaching) replayed every 10 s with the app's privacy rule: which parts raised which banner, and how many
seconds after the part began.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from benchmarks.common import emit
from benchmarks.webcam_clips import EXPECTED, PARTS, ClipSpec, cameras, write_clip
from db.lessons import add_participant, create_lesson
from db.schema import LessonSession
from db.session import open_database
from db.writer import ObservationWriter
from engine.attention import EAR_CLOSED, FaceMesh
from engine.classifier import load_classifier
from engine.detectors import make_detector
from engine.registry import resolve_model
from engine.stream import StreamProcessor
from engine.types import ATTENTION_STATES, Observation
from engine.video import VideoReader
from services.policy import Policy
from services.teaching import Teaching
from settings import Settings

log = logging.getLogger("benchmarks.attention_clips")
REPLAY_STEP_S = 10


def record_lesson(spec: ClipSpec, clips: list[Path], settings: Settings,
                  sessions: sessionmaker[Session]) -> tuple[int, datetime, list[tuple[int, Observation]], str]:
    """Stream the clips into a new lesson; returns its id, its start, (student, observation) pairs and the model."""
    # on a whole minute, so the view's 10-s windows (on the clock) start with the parts: the same figures every run
    started = (datetime.now(UTC) - timedelta(seconds=spec.seconds + 60)).replace(second=0, microsecond=0)
    with sessions.begin() as s:
        lesson = create_lesson(s, "Attention clips", owner="benchmark")
        lesson.started_at = started
        ids = [add_participant(s, lesson, f"student-{i + 1}", consent=False).id for i in range(len(clips))]
        lesson_id = lesson.id
    classifier = (load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime,
                                  settings.inference_threads) if settings.emotion_inference else None)
    mesh = FaceMesh(settings.facemesh_path)
    writer = ObservationWriter(sessions)
    clock = [0.0]
    records: list[tuple[int, Observation]] = []

    def sink(student: int, obs: Observation) -> None:
        writer.submit(lesson_id, ids[student], obs)
        records.append((student, obs))

    processors = [StreamProcessor(make_detector(settings.detector), classifier,
                                  partial(sink, i), stream_id=f"student-{i + 1}", attention=mesh,
                                  overlay=False, clock=lambda: clock[0],
                                  wallclock=lambda: started + timedelta(seconds=clock[0]), **settings.stream_options())
                  for i in range(len(clips))]
    readers = [VideoReader(path) for path in clips]
    try:
        for frames in zip(*(reader.sample(0) for reader in readers)):
            clock[0] = frames[0][0]
            for processor, (_t, image) in zip(processors, frames):
                processor.process(image)
    finally:
        for reader in readers:
            reader.close()
    writer.close(timeout=60)
    if writer.stats.written != len(records):
        raise RuntimeError(f"{writer.stats.written} of {len(records)} records written")
    return lesson_id, started, records, classifier.card.name if classifier is not None else "attention-only"


def part_rates(spec: ClipSpec, started: datetime, records: list[tuple[int, Observation]]) -> dict[str, dict[str, float]]:
    """Per part: records, the share in each state, and the share EAR < EAR_CLOSED alone would call closed."""
    states: dict[str, Counter[str]] = defaultdict(Counter)
    ear_closed: Counter[str] = Counter()
    for _student, obs in records:
        if obs.attention is None:
            continue
        part = spec.part_at((obs.timestamp - started).total_seconds())
        states[part][obs.attention.state] += 1
        ear_closed[part] += obs.attention.ear < EAR_CLOSED
    rates = {}
    for part in PARTS:
        n = sum(states[part].values())
        rates[part] = {"records": n, **{s: round(states[part][s] / n, 3) if n else 0.0 for s in ATTENTION_STATES},
                       "closed_by_ear_alone": round(ear_closed[part] / n, 3) if n else 0.0}
    return rates


@dataclass(frozen=True)
class Shown:
    """What the replayed live view showed `second` seconds into the lesson."""

    second: int
    part: str
    alerts: list[str]
    hidden_windows: int
    streaming: int


def banners(spec: ClipSpec, lesson_id: int, started: datetime, sessions: sessionmaker[Session],
            settings: Settings) -> list[Shown]:
    """The teacher's live view every REPLAY_STEP_S seconds: the banners it shows then."""
    teaching = Teaching(sessions, Policy(settings.privacy_mode, settings.min_group_size, settings.emotion_inference))
    with sessions() as s:
        lesson = s.get(LessonSession, lesson_id)
        assert lesson is not None
        s.expunge(lesson)
    shown = []
    for second in range(REPLAY_STEP_S, int(spec.seconds) + 1, REPLAY_STEP_S):
        view = teaching.class_view(lesson, live=True, as_of=started + timedelta(seconds=second))
        shown.append(Shown(second, spec.part_at(second - 0.001), [a.kind for a in view.alerts], view.hidden,
                           view.streaming))
    return shown


def banner_summary(spec: ClipSpec, shown: list[Shown]) -> dict[str, dict[str, list[int]]]:
    """Per part and banner kind: the seconds after the part's start at which the replayed view showed it (a banner
    early in a part may stand on the previous part's windows: it looks at the last three)."""
    out: dict[str, dict[str, list[int]]] = {part: {} for part in PARTS}
    for row in shown:
        start = PARTS.index(row.part) * spec.part_seconds
        for kind in row.alerts:
            out[row.part].setdefault(kind, []).append(round(row.second - start))
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m benchmarks.attention_clips", description=__doc__.splitlines()[0])
    p.add_argument("--part-seconds", type=float, default=40.0, help="seconds of each part of a clip")
    p.add_argument("--fps", type=int, default=10)
    p.add_argument("--keep", type=Path, default=None, help="keep the clips and the lesson's database in this folder")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    spec = ClipSpec(part_seconds=args.part_seconds, fps=args.fps)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        clips = []
        for i, camera in enumerate(cameras(FaceMesh(settings.facemesh_path), spec)):
            log.info("recording student %d's clip (%d frames)", i + 1, spec.frames)
            clips.append(write_clip(folder / f"student-{i + 1}.mp4", camera))
        (folder / "attention-clips.db").unlink(missing_ok=True)
        engine, sessions = open_database(f"sqlite:///{folder / 'attention-clips.db'}")
        lesson_id, started, records, model = record_lesson(spec, clips, settings, sessions)
        rates = part_rates(spec, started, records)
        shown = banners(spec, lesson_id, started, sessions, settings)
        engine.dispose()
    summary = banner_summary(spec, shown)
    lines = [f"{'part':<9}{'expected':>14}{'records':>8}{'attentive':>10}{'down':>7}{'away':>7}{'closed':>8}"
             f"{'closed by EAR alone':>21}  banners shown (s after the part began)"]
    for part in PARTS:
        r = rates[part]
        seen = "; ".join(f"{k} at {', '.join(map(str, v))}" for k, v in summary[part].items()) or "none"
        lines.append(f"{part:<9}{EXPECTED[part]:>14}{r['records']:>8}{r['attentive']:>10.0%}{r['looking_down']:>7.0%}"
                     f"{r['looking_away']:>7.0%}{r['eyes_closed']:>8.0%}{r['closed_by_ear_alone']:>21.0%}  {seen}")
    result = {"part_seconds": spec.part_seconds, "fps": spec.fps, "students": len(clips),
              "model": model,
              "min_group_size": settings.min_group_size, "parts": rates, "banners": summary, "replay": [asdict(row) for row in shown]}
    emit(result, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
