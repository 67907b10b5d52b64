"""Which students' streams must end, for every stream of a process to ask on every frame without touching the
database: their lesson has ended, or their records (or their whole lesson) were erased.

Each student's frame callback asks `ended(participant_id)` for every frame; the answer comes from a cache that a
background thread refreshes for all the students asked about with one query every `interval` seconds. The video
path never waits on the database, even one that is slow or away (then the cache stays as it was). A page run, which
may wait, asks `check(participant_id)` straight from the database, and learns why. A stream that has ended stays
ended: it is never asked about again.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.schema import LessonSession, Participant

log = logging.getLogger(__name__)

ENDED, ERASED = "ended", "erased"  # why a stream ended: the lesson ended; the participant or lesson was erased


class StreamEnds:
    """A process-wide, thread-safe view of which participants' streams must end, at most about `interval` seconds
    old."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0, background: bool = True) -> None:
        self._sessions, self.interval, self._background = sessions, interval, background
        self._lock = threading.Lock()
        self._watched: set[int] = set()
        self._ended: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def ended(self, participant_id: int) -> bool:
        """From the cache only (never blocks on the database); a participant asked about for the first time is
        looked up by the next refresh."""
        with self._lock:
            if participant_id in self._ended:
                return True
            self._watched.add(participant_id)
            if self._background and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stream-ends", daemon=True)
                self._thread.start()
            return False

    def check(self, participant_id: int) -> str | None:
        """Straight from the database (for a page run), and remembered: ENDED, ERASED, or None while the stream may
        go on (also while the database is away)."""
        try:
            with self._sessions() as s:
                row = s.execute(self._query({participant_id})).first()
        except SQLAlchemyError as exc:
            log.warning("could not check a stream: %s", exc.__class__.__name__)
            return None
        why = ERASED if row is None else ENDED if row.ended_at is not None else None
        if why is not None:
            with self._lock:
                self._ended.add(participant_id)
                self._watched.discard(participant_id)
        return why

    def refresh(self) -> None:
        """One query for every participant watched; one whose row (or lesson) is gone has ended too."""
        with self._lock:
            asked = self._watched - self._ended
        if not asked:
            return
        try:
            with self._sessions() as s:
                rows = s.execute(self._query(asked)).all()
        except SQLAlchemyError as exc:  # the database is away: keep streaming; the writer holds the rows
            log.warning("could not check which streams must end: %s", exc.__class__.__name__)
            return
        finished = asked - {row.id for row in rows if row.ended_at is None}
        if finished:
            log.info("streams ended (lesson ended or records erased): participants %s", sorted(finished))
        with self._lock:
            self._ended |= finished
            self._watched -= finished

    @staticmethod
    def _query(participants: set[int]):  # type: ignore[no-untyped-def]
        return (select(Participant.id, LessonSession.ended_at)
                .join(LessonSession, Participant.session_id == LessonSession.id)
                .where(Participant.id.in_(participants)))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()
