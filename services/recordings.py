"""Recorded lessons: a recording's observations stored as a lesson, one pseudonymous participant per person."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db.lessons import LessonError, add_participant, create_lesson, delete_lesson_data, find_lesson, optional_course
from db.schema import LessonSession
from db.writer import ObservationWriter
from engine.types import Observation


class Recordings:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def record(self, title: str, owner: str, *, started: datetime, seconds: float, participants: Iterable[int],
               observations: list[Observation], new_lesson: bool = False, course: str | None = None,
               privacy_mode: str = "aggregate") -> int:
        """Store a recording's observations (`track_id`: the participant number) in the lesson `title`; returns its
        id. A new lesson spans the recording (`started` is its first frame) and has ended; a running lesson of that
        title is recorded into and left running; an ended one is never written into (LessonError). With
        `new_lesson` a new lesson is always made (in the owner's `course`, created if new, with `privacy_mode`)."""
        with self.sessions.begin() as s:
            lesson = None if new_lesson else find_lesson(s, title)
            created = lesson is None
            if lesson is None:
                lesson = create_lesson(s, title, owner=owner, course=optional_course(s, course, owner),
                                       privacy_mode=privacy_mode)
                lesson.started_at = started
            elif lesson.ended_at is not None:
                raise LessonError(f"a lesson named {title!r} has already ended; choose another name")
            elif lesson.started_at is None:
                lesson.started_at = started
            ids = {n: add_participant(s, lesson, f"person-{n}", consent=False).id for n in participants}
            lesson_id = lesson.id
        writer = ObservationWriter(self.sessions)
        for obs in observations:
            writer.submit(lesson_id, ids[obs.track_id], obs)
        writer.close(timeout=120)
        stats = writer.stats
        if stats.written != len(observations):
            if created:  # no half-recorded lesson is left behind: the recording may simply be sent again
                with self.sessions.begin() as s:
                    delete_lesson_data(s, lesson_id)
            raise LessonError(f"only {stats.written} of {len(observations)} observations were written "
                              f"({stats.dropped} dropped, {stats.failed} failed, {stats.refused} refused)"
                              + ("; nothing was kept" if created else ""))
        if created:
            with self.sessions.begin() as s:
                stored = s.get(LessonSession, lesson_id)
                assert stored is not None
                stored.ended_at = started + timedelta(seconds=seconds)
        return lesson_id

    def owner_exists(self, username: str) -> bool:
        from db.accounts import list_accounts

        with self.sessions() as s:
            return username in {a.username for a in list_accounts(s)}
