from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cli.retention import main
from db.lessons import add_participant, create_lesson
from db.retention import delete_participant_data, purge_older_than
from db.schema import ObservationRow, Participant
from db.writer import ObservationWriter
from tests.db.conftest import make_observation

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def fill(sessions, ages_days: list[float]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        lesson = create_lesson(s, "Old and new", start=True)
        a, b = add_participant(s, lesson, "A", consent=True).id, add_participant(s, lesson, "B", consent=True).id
        lesson_id = lesson.id
    writer = ObservationWriter(sessions)
    for age in ages_days:
        writer.submit(lesson_id, a, make_observation(ts=NOW - timedelta(days=age)))
        writer.submit(lesson_id, b, make_observation(ts=NOW - timedelta(days=age)))
    writer.close()
    return a, b


def count(sessions, model) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_old_observations_are_purged_and_recent_ones_kept(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    fill(sessions, [0.5, 10, 29, 31, 400])
    with sessions.begin() as s:
        assert purge_older_than(s, 30, now=NOW) == 4
    assert count(sessions, ObservationRow) == 6
    with sessions.begin() as s:
        assert purge_older_than(s, 0, now=NOW) == 0  # 0 keeps everything


def test_a_participants_data_can_be_deleted(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    a, _b = fill(sessions, [1, 2, 3])
    with sessions.begin() as s:
        assert delete_participant_data(s, a) == 3
    assert count(sessions, ObservationRow) == 3 and count(sessions, Participant) == 1


def test_retention_command(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from db.session import open_database

    url = f"sqlite:///{tmp_path / 'r.db'}"
    _engine, sessions = open_database(url)
    fill(sessions, [1, 100])
    assert main(["--db", url, "--days", "30"]) == 0
    assert "deleted" in capsys.readouterr().out and count(sessions, ObservationRow) == 2


def test_old_lessons_go_with_their_display_names_and_idle_throttle_rows_go_after_a_day(db) -> None:  # type: ignore[no-untyped-def]
    from db.lessons import end_lesson
    from db.retention import purge_personal_data
    from db.schema import Attempt, LessonSession
    from db.throttle import claim

    _, sessions = db
    with sessions.begin() as s:
        old = create_lesson(s, "Last term", start=True)
        add_participant(s, old, "Real Name", consent=True)
        end_lesson(s, old)
        old.ended_at = NOW - timedelta(days=40)
        recent = create_lesson(s, "This week", start=True)
        add_participant(s, recent, "Other Name", consent=True)
        recent.created_at = NOW - timedelta(days=2)
    claim_session = sessions()
    claim(claim_session, "login:ada|10.0.0.1", NOW - timedelta(days=2))
    claim(claim_session, "join:10.0.0.9", NOW - timedelta(hours=2))
    claim_session.close()
    with sessions.begin() as s:
        purged = purge_personal_data(s, 30, now=NOW)
    assert purged.lessons == 1 and purged.attempts == 1
    with sessions() as s:
        assert [lesson.title for lesson in s.scalars(select(LessonSession))] == ["This week"]
        assert [p.display_name for p in s.scalars(select(Participant))] == ["Other Name"]
        assert [a.key for a in s.scalars(select(Attempt))] == ["join:10.0.0.9"]
