"""Which lessons have ended, for every stream of a process to ask on every frame without touching the database.

Each student's frame callback asks `ended(lesson_id)` for every frame; the answer comes from a cache that a
background thread refreshes for all the lessons asked about with one query every `interval` seconds. The video
path never waits on the database, even one that is slow or away (then the cache stays as it was). A page run, which
may wait, asks `check(lesson_id)` for an answer straight from the database. A lesson that has ended (or was
deleted) stays ended: it is never asked about again.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.schema import LessonSession

log = logging.getLogger(__name__)


class LessonEnds:
    """A process-wide, thread-safe view of which lessons have ended, at most about `interval` seconds old."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0, background: bool = True) -> None:
        self._sessions, self.interval, self._background = sessions, interval, background
        self._lock = threading.Lock()
        self._watched: set[int] = set()
        self._ended: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def ended(self, lesson_id: int) -> bool:
        """From the cache only (never blocks on the database); a lesson asked about for the first time is looked up
        by the next refresh."""
        with self._lock:
            if lesson_id in self._ended:
                return True
            self._watched.add(lesson_id)
            if self._background and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lesson-ends", daemon=True)
                self._thread.start()
            return False

    def check(self, lesson_id: int) -> bool:
        """Straight from the database (for a page run), and remembered."""
        with self._lock:
            if lesson_id in self._ended:
                return True
        self.refresh({lesson_id})
        return self.ended(lesson_id)

    def refresh(self, lessons: set[int] | None = None) -> None:
        """One query for the watched lessons (or `lessons`); a lesson that is gone counts as ended."""
        with self._lock:
            asked = set(self._watched if lessons is None else lessons) - self._ended
        if not asked:
            return
        try:
            with self._sessions() as s:
                rows = s.execute(select(LessonSession.id, LessonSession.ended_at)
                                 .where(LessonSession.id.in_(asked))).tuples().all()
        except SQLAlchemyError as exc:  # the database is away: keep streaming; the writer holds the rows
            log.warning("could not check which lessons have ended: %s", exc.__class__.__name__)
            return
        finished = asked - {lesson_id for lesson_id, ended_at in rows if ended_at is None}
        if finished:
            log.info("lessons ended: %s", sorted(finished))
        with self._lock:
            self._ended |= finished
            self._watched -= finished

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()
