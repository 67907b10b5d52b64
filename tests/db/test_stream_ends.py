"""StreamEnds: which students' streams must end (lesson ended, records erased), from one query per refresh however
many streams ask, and never a query on the video path."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import event

from db.lessons import add_participant, create_lesson, delete_lesson_data, end_lesson
from db.retention import delete_participant_data
from db.schema import LessonSession
from db.session import open_database
from db.stream_ends import ENDED, ERASED, StreamEnds


def test_streams_read_the_cache_and_one_query_refreshes_every_student(tmp_path: Path) -> None:
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        lessons = [create_lesson(s, f"Lesson {i}", start=True) for i in range(3)]
        ids = [add_participant(s, lesson, name, consent=True).id for lesson in lessons for name in ("Ann", "Ben")]
        lesson_ids = [lesson.id for lesson in lessons]
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    ends = StreamEnds(sessions, background=False)
    with sessions.begin() as s:
        end_lesson(s, s.get(LessonSession, lesson_ids[1]))  # Ann and Ben of lesson 1
        delete_participant_data(s, ids[0])  # Ann of lesson 0 is erased
    queries.clear()
    assert [ends.ended(i) for i in ids * 50] == [False] * 300  # the cache only: not one query
    assert queries == []
    ends.refresh()
    assert [ends.ended(i) for i in ids] == [True, False, True, True, False, False] and len(queries) == 1
    with sessions.begin() as s:
        delete_lesson_data(s, lesson_ids[2])
    ends.refresh()
    assert [ends.ended(i) for i in ids] == [True, False, True, True, True, True]  # a deleted lesson ends its streams
    assert (ends.check(ids[1]), ends.check(ids[2]), ends.check(ids[0]), ends.check(999)) == (None, ENDED, ERASED, ERASED)


def test_the_background_refresh_sees_an_ended_lesson_within_its_interval(tmp_path: Path) -> None:
    _engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        lesson = create_lesson(s, "Lesson", start=True)
        lesson_id, student = lesson.id, add_participant(s, lesson, "Ann", consent=True).id
    ends = StreamEnds(sessions, interval=0.05)
    try:
        assert not ends.ended(student)
        with sessions.begin() as s:
            end_lesson(s, s.get(LessonSession, lesson_id))
        deadline = time.monotonic() + 10
        while not ends.ended(student) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ends.ended(student)
    finally:
        ends.close()


def test_a_database_that_is_away_keeps_streams_running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'ends.db'}")
    with sessions.begin() as s:
        student = add_participant(s, create_lesson(s, "Lesson", start=True), "Ann", consent=True).id
    ends = StreamEnds(sessions, background=False)
    assert not ends.ended(student)
    (tmp_path / "ends.db").unlink()
    (tmp_path / "ends.db").mkdir()  # the file cannot be opened any more
    engine.dispose()
    ends.refresh()
    assert not ends.ended(student) and ends.check(student) is None
    assert "could not check which streams must end: OperationalError" in caplog.text
