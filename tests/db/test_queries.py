from datetime import UTC, datetime, timedelta

import pytest

from db.lessons import add_participant, create_lesson
from db.queries import emotion_shares, observations_frame, participant_timeline, session_summary
from db.schema import LessonSession
from db.writer import ObservationWriter
from engine.types import EMOTIONS, AttentionSignals
from tests.db.conftest import make_observation

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def filled(db):  # type: ignore[no-untyped-def]
    """Two students for 60 s: Ada happy throughout, Bob sad for 30 s then happy; plus one attention-only row."""
    _, sessions = db
    with sessions.begin() as s:
        lesson = create_lesson(s, "Biology", start=True)
        ada, bob = add_participant(s, lesson, "Ada", consent=True).id, add_participant(s, lesson, "Bob", consent=True).id
        lesson_id = lesson.id
    writer = ObservationWriter(sessions)
    for second in range(60):
        ts = T0 + timedelta(seconds=second)
        writer.submit(lesson_id, ada, make_observation("Happy", ts))
        writer.submit(lesson_id, bob, make_observation("Sad" if second < 30 else "Happy", ts, track_id=2))
    writer.submit(lesson_id, ada, make_observation(ts=T0 + timedelta(seconds=61), emotion=False))
    writer.close()
    return sessions, lesson_id, ada, bob


def test_emotion_shares_per_window(filled) -> None:  # type: ignore[no-untyped-def]
    sessions, lesson_id, *_ = filled
    with sessions() as s:
        shares = emotion_shares(observations_frame(s, lesson_id), "30s")
    assert list(shares.columns) == ["window", *EMOTIONS, "observations", "participants"]
    assert len(shares) == 2  # the attention-only row carries no mood
    first, second = shares.iloc[0], shares.iloc[1]
    assert first["observations"] == 60 and first["participants"] == 2
    assert first["Happy"] == pytest.approx((0.7 + 0.05) / 2) and first["Sad"] == pytest.approx((0.05 + 0.7) / 2)
    assert second["Happy"] == pytest.approx(0.7)
    assert shares[list(EMOTIONS)].sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0])


def test_emotion_shares_of_nothing_is_empty_with_columns(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions() as s:
        assert emotion_shares(observations_frame(s, 999)).empty


def test_observations_since(filled) -> None:  # type: ignore[no-untyped-def]
    sessions, lesson_id, *_ = filled
    with sessions() as s:
        assert len(observations_frame(s, lesson_id, since=T0 + timedelta(seconds=50))) == 21


def test_participant_timeline(filled) -> None:  # type: ignore[no-untyped-def]
    sessions, lesson_id, _ada, bob = filled
    with sessions() as s:
        timeline = participant_timeline(s, lesson_id, bob)
    assert len(timeline) == 60 and timeline["ts"].is_monotonic_increasing
    assert list(timeline["label"][:30].unique()) == ["Sad"] and list(timeline["label"][30:].unique()) == ["Happy"]


def test_session_summary(filled) -> None:  # type: ignore[no-untyped-def]
    sessions, lesson_id, *_ = filled
    with sessions() as s:
        summary = session_summary(s, lesson_id)
    assert summary.observations == 121 and summary.participants == 2
    assert summary.dominant == "Happy"
    assert summary.dominant_shares["Sad"] == pytest.approx(30 / 120)
    assert sum(summary.mean_probabilities.values()) == pytest.approx(1.0)
    assert summary.last_observation is not None and summary.first_observation is not None
    assert summary.last_observation - summary.first_observation == timedelta(seconds=61)


def test_summary_of_a_missing_lesson(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions() as s, pytest.raises(LookupError):
        session_summary(s, 42)


def test_attention_shares_from_recorded_signals(db) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from db.queries import attention_shares

    _, sessions = db
    with sessions.begin() as s:
        lesson = create_lesson(s, "Attention", start=True)
        pid, lesson_id = add_participant(s, lesson, "A", consent=True).id, lesson.id
    writer = ObservationWriter(sessions)
    states = [AttentionSignals(0.3, True, 0.0, 0.0, False), AttentionSignals(0.1, False, 0.0, 0.0, False),
              AttentionSignals(0.3, True, 40.0, 0.0, True), AttentionSignals(0.3, True, 0.0, 0.0, False)]
    for i, signals in enumerate(states):
        writer.submit(lesson_id, pid, replace(make_observation(ts=T0 + timedelta(seconds=i)), attention=signals))
    writer.submit(lesson_id, pid, make_observation(ts=T0 + timedelta(seconds=5)))  # no signals: not counted
    writer.close()
    with sessions() as s:
        shares = attention_shares(observations_frame(s, lesson_id), "1min")
    (row,) = shares.to_dict("records")
    assert row["attentive"] == 0.5 and row["eyes_closed"] == 0.25 and row["looking_away"] == 0.25
    assert row["observations"] == 4 and row["participants"] == 1


def test_replay_and_summary_stop_at_the_lessons_end_even_for_rows_stored_after_it(filled) -> None:  # type: ignore[no-untyped-def]
    """Rows stamped after the end (a database from before the writer refused them) stay out of every figure."""
    sessions, lesson_id, *_ = filled
    with sessions.begin() as s:
        s.get(LessonSession, lesson_id).ended_at = T0 + timedelta(seconds=29.5)
    with sessions() as s:
        frame, summary = observations_frame(s, lesson_id), session_summary(s, lesson_id)
    assert len(frame) == 60 and frame["ts"].max() == T0 + timedelta(seconds=29)
    assert summary.observations == 60 and summary.mean_probabilities["Sad"] == pytest.approx((0.05 + 0.7) / 2)
