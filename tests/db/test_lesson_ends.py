"""LessonEnds: which lessons have ended, from one query per interval however many streams ask."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from db.lesson_ends import LessonEnds
from db.lessons import create_lesson, delete_lesson_data, end_lesson
from db.schema import LessonSession
from db.session import open_database


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_ended_lesson_is_seen_within_one_interval_with_one_query_for_all_lessons(tmp_path: Path) -> None:
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        ids = [create_lesson(s, f"Lesson {i}", start=True).id for i in range(3)]
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    clock = Clock()
    ends = LessonEnds(sessions, interval=1.0, clock=clock)
    assert [ends.ended(i) for i in ids] == [False, False, False]  # a lesson asked about first is looked up at once
    with sessions.begin() as s:
        end_lesson(s, s.get(LessonSession, ids[1]))
    asked = len(queries)
    clock.now = 0.5
    assert [ends.ended(i) for i in ids * 50] == [False] * 150  # within the interval: from the cache
    assert len(queries) == asked
    clock.now = 1.2
    assert [ends.ended(i) for i in ids] == [False, True, False]
    assert len(queries) == asked + 1  # one query for the three
    with sessions.begin() as s:
        delete_lesson_data(s, ids[2])
    clock.now = 2.5
    assert ends.ended(ids[2]) and ends.ended(ids[1]) and not ends.ended(ids[0])  # a deleted lesson has ended too
    assert ends.ended(999)  # never existed


def test_a_database_that_is_away_keeps_lessons_running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        lesson_id = create_lesson(s, "Lesson", start=True).id
    clock = Clock()
    ends = LessonEnds(sessions, clock=clock)
    assert not ends.ended(lesson_id)
    (tmp_path / "ends.db").unlink()
    (tmp_path / "ends.db").mkdir()  # the file cannot be opened any more
    _engine.dispose()
    clock.now = 5.0
    assert not ends.ended(lesson_id)
    assert "could not check which lessons have ended: OperationalError" in caplog.text
