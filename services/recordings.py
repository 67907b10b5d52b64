"""Recorded lessons: a recording's observations stored as a lesson, one pseudonymous participant per person."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.lessons import LessonError, add_participant, create_lesson, find_lesson, optional_course
from db.schema import ObservationRow
from db.writer import Record, admissible, to_row
from engine.types import Observation

CHUNK = 5_000  # rows per INSERT statement, all in the one transaction


class Recordings:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def record(self, title: str, owner: str, *, started: datetime, seconds: float, participants: Iterable[int],
               observations: list[Observation], new_lesson: bool = False, course: str | None = None,
               privacy_mode: str = "aggregate") -> int:
        """Store a recording's observations (`track_id`: the participant number) in the lesson `title`; returns its
        id. A new lesson spans the recording (`started` is its first frame) and has ended; a running lesson of that
        title is recorded into and left running; an ended one is never written into (LessonError). With
        `new_lesson` a new lesson is always made (in the owner's `course`, created if new, with `privacy_mode`).

        One transaction: the lesson, its participants and every observation are stored together or not at all, so
        a database that fails part-way, or an app that stops meanwhile, leaves no half-recorded lesson behind (the
        recording may simply be sent again)."""
        try:
            with self.sessions.begin() as s:
                lesson = None if new_lesson else find_lesson(s, title)
                if lesson is None:
                    lesson = create_lesson(s, title, owner=owner, course=optional_course(s, course, owner),
                                           privacy_mode=privacy_mode)
                    lesson.started_at, lesson.ended_at = started, started + timedelta(seconds=seconds)
                elif lesson.ended_at is not None:
                    raise LessonError(f"a lesson named {title!r} has already ended; choose another name")
                elif lesson.started_at is None:
                    lesson.started_at = started
                ids = {n: add_participant(s, lesson, f"person-{n}", consent=False).id for n in participants}
                s.flush()
                rows = admissible(s, [to_row(Record(lesson.id, ids[obs.track_id], obs)) for obs in observations])
                if len(rows) != len(observations):
                    raise LessonError(f"{len(observations) - len(rows)} of {len(observations)} observations fall after "
                                      "the recording's end; nothing was kept")
                for first in range(0, len(rows), CHUNK):
                    s.execute(insert(ObservationRow), rows[first : first + CHUNK])
                return lesson.id
        except SQLAlchemyError as exc:
            raise LessonError(f"the database did not store the recording ({getattr(exc, 'orig', None) or exc}); "
                              "nothing was kept, so it can simply be sent again") from exc

    def owner_exists(self, username: str) -> bool:
        from db.accounts import list_accounts

        with self.sessions() as s:
            return username in {a.username for a in list_accounts(s)}
