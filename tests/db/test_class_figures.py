"""Class figures under the privacy rule: every average comes from windows with enough students, or from none."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from db.class_figures import class_figures
from db.lessons import add_participant, create_lesson
from db.reports import minutes_export, to_csv_bytes
from db.writer import ObservationWriter
from engine.types import AttentionSignals
from tests.db.conftest import make_observation

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ATTENTIVE = AttentionSignals(ear=0.3, eyes_open=True, yaw=0.0, pitch=0.0, looking_away=False)
AWAY = AttentionSignals(ear=0.3, eyes_open=True, yaw=40.0, pitch=0.0, looking_away=True)


def lesson_with(sessions, plan: list[tuple[str, int, str, AttentionSignals]], mode: str = "aggregate",  # type: ignore[no-untyped-def]
                start: datetime = T0) -> int:
    """plan: (student, minute, label, attention signals) -> one record every 6 s of that minute from `start`."""
    with sessions.begin() as s:
        lesson = create_lesson(s, "Chemistry", start=True, privacy_mode=mode)
        lesson.started_at = start
        people = {name: add_participant(s, lesson, name, consent=True).id for name in sorted({p[0] for p in plan})}
        lesson_id = lesson.id
    writer = ObservationWriter(sessions)
    for name, minute, label, signals in plan:
        for second in range(0, 60, 6):
            obs = make_observation(label, start + timedelta(minutes=minute, seconds=second))
            writer.submit(lesson_id, people[name], replace(obs, attention=signals))
    writer.close()
    return lesson_id


def test_a_one_student_lesson_has_no_class_figures_at_all(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id = lesson_with(sessions, [("Ada", m, "Sad", AWAY) for m in range(3)])
    with sessions() as s:
        figures = class_figures(s, lesson_id, min_group=3, individuals=False)
    assert figures.windows == 3 and figures.hidden == 3
    assert figures.mood.empty and figures.attention.empty
    assert figures.mean_mood == {} and figures.mean_attention == {} and figures.dominant is None
    assert to_csv_bytes(minutes_export(figures, UTC)).decode().count("\n") == 1  # the header only


def test_averages_come_only_from_windows_with_enough_students(db) -> None:  # type: ignore[no-untyped-def]
    """Minutes 0-1: three happy, attentive students; minutes 2-3: Ada alone, sad and looking away."""
    _, sessions = db
    plan = [(name, m, "Happy", ATTENTIVE) for name in ("Ada", "Bob", "Cy") for m in (0, 1)]
    plan += [("Ada", m, "Sad", AWAY) for m in (2, 3)]
    lesson_id = lesson_with(sessions, plan)
    with sessions() as s:
        figures = class_figures(s, lesson_id, min_group=3, individuals=False)
        every = class_figures(s, lesson_id, min_group=3, individuals=True)
    assert (figures.windows, figures.hidden, figures.peak_students) == (4, 2, 3)
    assert figures.mean_mood["Happy"] == pytest.approx(0.7) and figures.mean_mood["Sad"] == pytest.approx(0.05)
    assert figures.mean_attention == {"attentive": 1.0, "looking_down": 0.0, "looking_away": 0.0, "eyes_closed": 0.0}
    table = minutes_export(figures, UTC)
    assert len(table) == 2 and set(table["participants"]) == {3}
    assert {"Happy", "attentive", "looking_down", "looking_away", "eyes_closed"} <= set(table.columns)
    # a per-student lesson (where the deployment allows it) shows every minute
    assert every.hidden == 0 and len(every.mood) == 4 and every.mean_attention["looking_away"] == pytest.approx(
        20 / 80)


def test_only_a_per_student_lesson_in_a_per_student_deployment_shows_individuals() -> None:
    from db.class_figures import shows_individuals

    assert shows_individuals("per-student", "per-student")
    assert not shows_individuals("per-student", "aggregate") and not shows_individuals("per-student", "attention-only")
    assert not shows_individuals("aggregate", "per-student")
