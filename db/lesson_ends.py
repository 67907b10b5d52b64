"""Which lessons have ended, as every stream of a process asks many times a second, for one query a second.

Each student's frame callback asks `ended(lesson_id)` for every frame; the answers come from a cache that one
query refreshes for all the lessons asked about, at most once per `interval` seconds. A lesson that has ended (or
was deleted) stays ended: the cache never asks about it again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.schema import LessonSession

log = logging.getLogger(__name__)


class LessonEnds:
    """A process-wide, thread-safe view of which lessons have ended, at most `interval` seconds old."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions, self._interval, self._clock = sessions, interval, clock
        self._lock = threading.Lock()
        self._watched: set[int] = set()
        self._ended: set[int] = set()
        self._checked = float("-inf")

    def ended(self, lesson_id: int) -> bool:
        with self._lock:
            if lesson_id in self._ended:
                return True
            new = lesson_id not in self._watched
            self._watched.add(lesson_id)
            if not new and self._clock() - self._checked < self._interval:
                return False
            self._refresh()
            return lesson_id in self._ended

    def _refresh(self) -> None:
        """One query for every watched lesson still running; a lesson that is gone counts as ended."""
        self._checked = self._clock()
        try:
            with self._sessions() as s:
                rows = s.execute(select(LessonSession.id, LessonSession.ended_at)
                                 .where(LessonSession.id.in_(self._watched))).tuples().all()
        except SQLAlchemyError as exc:  # the database is away: keep streaming; the writer holds the rows
            log.warning("could not check which lessons have ended: %s", exc.__class__.__name__)
            return
        running = {lesson_id for lesson_id, ended_at in rows if ended_at is None}
        finished = self._watched - running
        if finished:
            log.info("lessons ended: %s", sorted(finished))
        self._ended |= finished
        self._watched = running
