"""Lesson sessions and participants: create, join, start, end, delete."""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.schema import Course, LessonSession, ObservationRow, Participant
from db.throttle import claim, reset

# No 0/O, 1/I/L: codes are read off a projector and typed by students.
JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6
JOIN_CODE_RE = re.compile(rf"^[{JOIN_ALPHABET}]{{{JOIN_CODE_LENGTH}}}$")


class LessonError(ValueError):
    """A lesson-session operation was refused; the message is safe to show."""


def now() -> datetime:
    return datetime.now(UTC)


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(text: str) -> str:
    """Upper-cased, spaces and dashes removed; raises LessonError if it cannot be a join code."""
    code = re.sub(r"[\s-]", "", text or "").upper()
    if not JOIN_CODE_RE.match(code):
        raise LessonError(f"a join code is {JOIN_CODE_LENGTH} letters and digits, like K7PM3Q")
    return code


def get_or_create_course(session: Session, name: str, owner: str = "") -> Course:
    course = session.scalar(select(Course).where(Course.name == name, Course.owner == owner))
    if course is None:
        course = Course(name=name, owner=owner, created_at=now())
        session.add(course)
        session.flush()
    return course


def optional_course(session: Session, name: str | None, owner: str) -> Course | None:
    """The owner's course of this name (created if new; at most 200 characters), or None for no or a blank name."""
    return get_or_create_course(session, name.strip()[:200], owner) if name and name.strip() else None


def create_lesson(session: Session, title: str, *, owner: str = "", course: Course | None = None,
                  privacy_mode: str = "aggregate", start: bool = False) -> LessonSession:
    """A new lesson session with a fresh, unique join code."""
    title = title.strip()
    if not title:
        raise LessonError("a lesson needs a title")
    taken = set(session.scalars(select(LessonSession.join_code)))
    code = new_join_code()
    while code in taken:
        code = new_join_code()
    lesson = LessonSession(title=title, join_code=code, owner=owner, course=course, privacy_mode=privacy_mode,
                           created_at=now(), started_at=now() if start else None)
    session.add(lesson)
    session.flush()
    return lesson


def find_lesson(session: Session, title: str) -> LessonSession | None:
    return session.scalar(select(LessonSession).where(LessonSession.title == title).order_by(LessonSession.id.desc()))


def start_lesson(session: Session, lesson: LessonSession) -> None:
    if lesson.ended_at is not None:
        raise LessonError("this lesson has ended; create a new one")
    lesson.started_at = lesson.started_at or now()


def end_lesson(session: Session, lesson: LessonSession) -> None:
    lesson.ended_at = lesson.ended_at or now()


def lesson_by_code(session: Session, code: str, client: str = "") -> LessonSession:
    """The live lesson for a join code; codes die when the lesson ends. Wrong guesses slow the client down."""
    key = f"join:{client}"
    wait = claim(session, key, now())
    if wait > 0:
        raise LessonError(f"too many wrong codes; try again in {int(wait) + 1} s")
    lesson = session.scalar(select(LessonSession).where(LessonSession.join_code == normalise_join_code(code)))
    if lesson is None or lesson.ended_at is not None:
        raise LessonError("no running lesson has this join code; check it with your teacher")
    reset(session, key)
    if lesson.started_at is None:
        raise LessonError("this lesson has not started yet; wait for your teacher to start it")
    return lesson


def add_participant(session: Session, lesson: LessonSession, display_name: str, *, consent: bool) -> Participant:
    """A pseudonymous participant; the display name is shown to the teacher only where privacy allows."""
    name = display_name.strip()[:80]
    if not name:
        raise LessonError("please enter a display name (a nickname is fine)")
    participant = Participant(lesson=lesson, display_name=name, pseudonym=f"P-{secrets.token_hex(4)}",
                              consent_at=now() if consent else None, joined_at=now())
    session.add(participant)
    session.flush()
    return participant


def delete_lesson_data(session: Session, lesson_id: int) -> int:
    """Remove a lesson with its participants and observations; returns the observations deleted."""
    result = session.execute(delete(ObservationRow).where(ObservationRow.session_id == lesson_id))
    deleted = getattr(result, "rowcount", 0) or 0
    session.execute(delete(Participant).where(Participant.session_id == lesson_id))
    session.execute(delete(LessonSession).where(LessonSession.id == lesson_id))
    return int(deleted)


def lesson_for(session: Session, lesson_id: int, username: str, is_admin: bool) -> LessonSession:
    """The lesson if this user may see it (its owner, or an admin); the same error whether missing or not theirs."""
    lesson = session.get(LessonSession, lesson_id)
    if lesson is None or not (is_admin or lesson.owner == username):
        raise LessonError("no such lesson")
    return lesson


def visible_lessons(session: Session, username: str, is_admin: bool) -> list[LessonSession]:
    """Every lesson for an admin; a teacher's own lessons otherwise."""
    return list_lessons(session, None if is_admin else username)


def list_lessons(session: Session, owner: str | None = None) -> list[LessonSession]:
    """Lessons newest first (running and not-yet-started before ended ones), optionally of one owner."""
    query = select(LessonSession)
    if owner is not None:
        query = query.where(LessonSession.owner == owner)
    lessons = list(session.scalars(query.order_by(LessonSession.id.desc())))
    return sorted(lessons, key=lambda lesson: lesson.ended_at is not None)


def participant_names(session: Session, lesson_id: int) -> dict[int, str]:
    return dict(session.execute(select(Participant.id, Participant.display_name)
                                .where(Participant.session_id == lesson_id)).tuples().all())
