"""LessonEnds: which lessons have ended, from one query per refresh however many streams ask, and never a query
on the video path."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import event

from db.lesson_ends import LessonEnds
from db.lessons import create_lesson, delete_lesson_data, end_lesson
from db.schema import LessonSession
from db.session import open_database


def test_streams_read_the_cache_and_one_query_refreshes_every_lesson(tmp_path: Path) -> None:
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        ids = [create_lesson(s, f"Lesson {i}", start=True).id for i in range(3)]
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    ends = LessonEnds(sessions, background=False)
    with sessions.begin() as s:
        end_lesson(s, s.get(LessonSession, ids[1]))
    queries.clear()
    assert [ends.ended(i) for i in ids * 50] == [False] * 150  # the cache only: not one query
    assert queries == []
    ends.refresh()
    assert [ends.ended(i) for i in ids] == [False, True, False] and len(queries) == 1  # one query for the three
    with sessions.begin() as s:
        delete_lesson_data(s, ids[2])
    ends.refresh()
    assert ends.ended(ids[2]) and ends.ended(ids[1]) and not ends.ended(ids[0])  # a deleted lesson has ended too
    assert ends.check(999) and not ends.check(ids[0])  # a page's own question goes to the database


def test_the_background_refresh_sees_an_ended_lesson_within_its_interval(tmp_path: Path) -> None:
    _engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        lesson_id = create_lesson(s, "Lesson", start=True).id
    ends = LessonEnds(sessions, interval=0.05)
    try:
        assert not ends.ended(lesson_id)
        with sessions.begin() as s:
            end_lesson(s, s.get(LessonSession, lesson_id))
        deadline = time.monotonic() + 10
        while not ends.ended(lesson_id) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ends.ended(lesson_id)
    finally:
        ends.close()


def test_a_database_that_is_away_keeps_lessons_running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        lesson_id = create_lesson(s, "Lesson", start=True).id
    ends = LessonEnds(sessions, background=False)
    assert not ends.ended(lesson_id)
    (tmp_path / "ends.db").unlink()
    (tmp_path / "ends.db").mkdir()  # the file cannot be opened any more
    engine.dispose()
    ends.refresh()
    assert not ends.ended(lesson_id)
    assert "could not check which lessons have ended: OperationalError" in caplog.text
