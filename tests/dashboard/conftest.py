"""AppTest fixtures: a fresh SQLite file per test, filled through StreamProcessor and the real writer."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from db.lessons import add_participant, create_lesson
from db.session import open_database
from db.writer import ObservationWriter
from engine.stream import StreamProcessor
from engine.types import AttentionSignals, Box, Observation
from tests.conftest import FakeClassifier, FakeDetector

VIEWS = Path(__file__).resolve().parents[2] / "dashboard" / "views"


class FakeMesh:
    """Attention signals without the landmark model: eyes open and facing the screen."""

    def attention(self, image: np.ndarray, box: Box) -> AttentionSignals:
        return AttentionSignals(ear=0.3, eyes_open=True, yaw=2.0, pitch=0.0, looking_away=False)


@dataclass
class Env:
    url: str
    models_dir: Path


@pytest.fixture
def app_env(tmp_path: Path, tiny_models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ENGAGE_DATABASE_URL", url)
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.delenv("ENGAGE_PRIVACY_MODE", raising=False)
    st.cache_resource.clear()  # settings and database are cached per process; each test has its own
    yield Env(url, tiny_models_dir)
    from dashboard.resources import get_database

    get_database(url).writer.close()  # stop this test's writer thread before the cache forgets it
    st.cache_resource.clear()


def fill_lesson(url: str, title: str, students: int, seconds: int, *, start: datetime | None = None,
                privacy_mode: str = "aggregate", ended: bool = False, owner: str = "teacher",
                attention_only: bool = False) -> int:
    """A started lesson with `students` streams of `seconds` frames (1 fps), recorded via the real writer."""
    _engine, sessions = open_database(url)
    start = start or datetime.now(UTC) - timedelta(seconds=seconds)
    with sessions.begin() as s:
        lesson = create_lesson(s, title, owner=owner, privacy_mode=privacy_mode, start=True)
        lesson.started_at = start
        if ended:
            lesson.ended_at = start + timedelta(seconds=seconds)
        lesson_id = lesson.id
        people = [add_participant(s, lesson, f"Student {i}", consent=True).id for i in range(students)]
    writer = ObservationWriter(sessions)
    frame = np.zeros((240, 320, 3), np.uint8)
    for pid in people:
        clock = [0.0]

        def sink(obs: Observation, pid: int = pid) -> bool:
            return writer.submit(lesson_id, pid, obs)

        def now(c: list[float] = clock) -> float:
            return c[0]

        def wall(c: list[float] = clock) -> datetime:
            return start + timedelta(seconds=c[0])

        proc = StreamProcessor(FakeDetector([Box(100, 60, 80, 80)]), None if attention_only else FakeClassifier(),
                               sink, analysis_interval=1.0, min_hits=1, clock=now,
                               attention=FakeMesh() if attention_only else None, wallclock=wall)
        for second in range(seconds):
            clock[0] = float(second)
            proc.process(frame)
    writer.close()
    assert writer.stats.written == students * seconds
    return lesson_id
