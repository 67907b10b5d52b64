"""Students joining a lesson: a join code checked, then consent given and a participant created."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.lessons import LessonError, add_participant, lesson_by_code
from db.schema import LessonSession
from services.policy import Policy


@dataclass(frozen=True)
class Invitation:
    """A lesson a student may join, before consent: what it records depends on `per_student`."""

    lesson_id: int
    lesson: str
    name: str
    per_student: bool


@dataclass(frozen=True)
class Membership:
    """A student in a lesson: the pseudonymous participant their observations are recorded for."""

    lesson_id: int
    lesson: str
    participant_id: int
    name: str


class Joining:
    def __init__(self, sessions: sessionmaker[Session], policy: Policy) -> None:
        self.sessions, self.policy = sessions, policy

    def invitation(self, code: str, name: str, client: str) -> Invitation:
        """The running lesson of a join code; raises LessonError (wrong code, slowed down, not started, ended)."""
        if not name.strip():
            raise LessonError("please enter a display name (a nickname is fine)")
        with self.sessions.begin() as s:  # wrong codes are counted in their own transaction; a good one clears them
            lesson = lesson_by_code(s, code, client=client)
            return Invitation(lesson.id, lesson.title, name.strip(), self.policy.individuals(lesson.privacy_mode))

    def join(self, invitation: Invitation) -> Membership:
        """Consent given: a new participant, unless the lesson ended meanwhile (LessonError)."""
        with self.sessions.begin() as s:
            lesson = s.get(LessonSession, invitation.lesson_id)
            if lesson is None or lesson.ended_at is not None:
                raise LessonError("this lesson has ended")
            person = add_participant(s, lesson, invitation.name, consent=True)
            return Membership(lesson.id, lesson.title, person.id, person.display_name)
