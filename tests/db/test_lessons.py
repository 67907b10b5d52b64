import pytest
from sqlalchemy import func, select

from db.lessons import (
    JOIN_CODE_LENGTH,
    LessonError,
    add_participant,
    create_lesson,
    delete_lesson_data,
    end_lesson,
    lesson_by_code,
    normalise_join_code,
    start_lesson,
)
from db.schema import LessonSession, Participant


def test_join_codes_are_unique_and_well_formed(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        codes = {create_lesson(s, f"Lesson {i}").join_code for i in range(50)}
    assert len(codes) == 50 and all(len(c) == JOIN_CODE_LENGTH for c in codes)


def test_students_join_only_running_lessons(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:  # the teacher's request
        lesson = create_lesson(s, "Maths")
        code, lesson_id = lesson.join_code, lesson.id
    with sessions() as s, pytest.raises(LessonError, match="not started"):  # a student's request
        lesson_by_code(s, code)
    with sessions.begin() as s:
        start_lesson(s, s.get_one(LessonSession, lesson_id))
    with sessions() as s:
        assert lesson_by_code(s, code.lower()).id == lesson_id  # codes are case-insensitive
    with sessions.begin() as s:
        end_lesson(s, s.get_one(LessonSession, lesson_id))
    with sessions() as s, pytest.raises(LessonError, match="no running lesson"):
        lesson_by_code(s, code)


@pytest.mark.parametrize("text", ["", "abc", "ABCDEFG", "AB0DEF", "AB CD!"])
def test_malformed_join_codes_are_refused(text: str) -> None:
    with pytest.raises(LessonError):
        normalise_join_code(text)


def test_participants_get_pseudonyms_and_consent_times(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        lesson = create_lesson(s, "Art", start=True)
        a = add_participant(s, lesson, "  Ada  ", consent=True)
        b = add_participant(s, lesson, "Bob", consent=False)
        assert a.display_name == "Ada" and a.pseudonym != b.pseudonym and a.pseudonym.startswith("P-")
        assert a.consent_at is not None and b.consent_at is None
        with pytest.raises(LessonError):
            add_participant(s, lesson, "   ", consent=True)


def test_deleting_a_lesson_removes_everything_of_it(db, fake_observation) -> None:  # type: ignore[no-untyped-def]
    from db.writer import ObservationWriter

    _, sessions = db
    with sessions.begin() as s:
        keep, drop = create_lesson(s, "Keep", start=True), create_lesson(s, "Drop", start=True)
        pk, pd_ = add_participant(s, keep, "A", consent=True).id, add_participant(s, drop, "B", consent=True).id
        keep_id, drop_id = keep.id, drop.id
    writer = ObservationWriter(sessions)
    for _ in range(3):
        writer.submit(keep_id, pk, fake_observation())
        writer.submit(drop_id, pd_, fake_observation())
    writer.close()
    with sessions.begin() as s:
        assert delete_lesson_data(s, drop_id) == 3
    with sessions() as s:
        assert s.scalar(select(func.count(LessonSession.id))) == 1
        assert s.scalar(select(func.count(Participant.id))) == 1
