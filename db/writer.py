"""The observation writer: a bounded queue the video threads put into, and one thread that commits batches.

`submit` never blocks; when the queue is full the record is dropped and counted, never silently. Every record
accepted ends up counted once: written, refused, failed or dropped.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.schema import PROBABILITY_COLUMNS, LessonSession, ObservationRow, Participant, WriterCounters, aware
from engine.types import Observation
from engine.workers import QueueWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """An observation and where it belongs."""

    session_id: int
    participant_id: int | None
    observation: Observation


@dataclass(frozen=True)
class WriterStats:
    submitted: int
    written: int
    dropped: int  # lost: the queue was full, or the writer closed before the database came back
    failed: int  # rejected by the database one by one (a bad row)
    refused: int  # for a participant erased or a lesson ended before the row's time
    queued: int


def to_row(record: Record) -> dict[str, object]:
    """The column values of one observation."""
    obs = record.observation
    probs = obs.prediction.probabilities if obs.prediction else (None,) * len(PROBABILITY_COLUMNS)
    return {
        "session_id": record.session_id, "participant_id": record.participant_id, "ts": obs.timestamp,
        "track_id": obs.track_id, **dict(zip(PROBABILITY_COLUMNS, probs)),
        "label": obs.prediction.label if obs.prediction else None,
        "confidence": obs.prediction.confidence if obs.prediction else None,
        "box_x": obs.box.x, "box_y": obs.box.y, "box_w": obs.box.w, "box_h": obs.box.h,
        "model_name": obs.model_name, "extras": json.dumps(obs.attention.as_dict()) if obs.attention else None,
    }


class ObservationWriter:
    """Takes records off the video threads and commits them in batches on its own thread.

    A batch that meets a locked, full or unreachable database is retried, with back-off, for as long as the writer
    runs: records are lost only when the queue is full (counted at `submit`) or when `close` runs out of time
    (counted as dropped). Rows for a participant erased or a lesson ended meanwhile are refused and counted, and a
    row the database rejects costs only itself, never the rest of its batch."""

    def __init__(self, sessions: sessionmaker[Session], *, max_queue: int = 20_000, batch_size: int = 500,
                 flush_interval: float = 0.25, max_backoff: float = 2.0, warn_every: float = 10.0,
                 publish_every: float = 5.0) -> None:
        self._sessions = sessions
        self.instance = f"{socket.gethostname()[:60]}:{os.getpid()}:{int(time.time())}"
        self._started_at = datetime.now(UTC)
        self.publish_every, self._published = publish_every, -float("inf")
        self.batch_size, self.flush_interval, self.max_backoff = batch_size, flush_interval, max_backoff
        self._give_up_at: float | None = None
        self._warnings = RateLimitedLog(warn_every)
        self._batches = _Batches(self, max_queue)

    def submit(self, session_id: int, participant_id: int | None, observation: Observation) -> bool:
        """Enqueue without blocking; False (and counted) when the queue is full or the writer stopped."""
        return self._batches.submit(Record(session_id, participant_id, observation))

    def _count(self, key: str, n: int = 1) -> None:
        self._batches.counters.add(key, n)

    @property
    def stats(self) -> WriterStats:
        counts = self._batches.counters.snapshot()
        return WriterStats(counts["submitted"], counts["written"], counts["dropped"], counts["failed"],
                           counts["refused"], queued=self._batches.queued)

    def _write(self, batch: list[Record]) -> None:
        try:
            self._commit(batch)
        except Exception:  # a bug must not kill the writer thread
            log.exception("writer: batch of %d observations failed", len(batch))
            self._count("failed", len(batch))

    def _publish_when_due(self) -> None:
        if time.monotonic() - self._published >= self.publish_every:
            self.publish()

    def _commit(self, batch: list[Record]) -> None:
        rows = [to_row(r) for r in batch]
        attempt = 0
        while True:
            try:
                with self._sessions.begin() as session:
                    kept = admissible(session, rows)
                    if kept:
                        session.execute(insert(ObservationRow), kept)
                self._count("written", len(kept))
                self._count("refused", len(rows) - len(kept))
                return
            except IntegrityError as exc:  # erased between the check and the insert, or a row the schema rejects
                if attempt >= 2:
                    self._commit_one_by_one(rows)
                    return
                log.info("writer: batch of %d rejected (%s); checking it again", len(rows), exc.orig)
            except (OperationalError, DBAPIError, OSError) as exc:  # locked, disk full, connection lost: wait, retry
                if self._give_up_at is not None and time.monotonic() > self._give_up_at:
                    log.error("writer: closing with the database unavailable; %d observations dropped", len(rows))
                    self._count("dropped", len(rows))
                    return
                self._warnings.warn("writer: the database refused a batch of %d (attempt %d, %d queued): %s",
                                    len(rows), attempt + 1, self._batches.queued, getattr(exc, "orig", None) or exc)
                time.sleep(min(0.05 * 2 ** min(attempt, 10), self.max_backoff))
            attempt += 1

    def _commit_one_by_one(self, rows: list[dict[str, object]]) -> None:
        for row in rows:
            try:
                with self._sessions.begin() as session:
                    kept = admissible(session, [row])
                    if kept:
                        session.execute(insert(ObservationRow), kept)
                self._count("written" if kept else "refused")
            except SQLAlchemyError as exc:
                log.error("writer: an observation was rejected: %s", getattr(exc, "orig", None) or exc)
                self._count("failed")

    def publish(self) -> bool:
        """Store this writer's counts in its row of `writer_counters` (best effort: False when the database is
        away; the next try is `publish_every` seconds later)."""
        self._published = time.monotonic()
        stats = self.stats
        values = {"submitted": stats.submitted, "written": stats.written, "dropped": stats.dropped,
                  "failed": stats.failed, "refused": stats.refused, "updated_at": datetime.now(UTC)}
        try:
            with self._sessions.begin() as session:
                row = session.get(WriterCounters, self.instance)
                if row is None:
                    session.add(WriterCounters(instance=self.instance, started_at=self._started_at, **values))
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
            return True
        except SQLAlchemyError:
            return False

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (or failed); True if the queue drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.stats
            if s.queued == 0 and s.written + s.failed + s.refused + s.dropped >= s.submitted:
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued within `timeout`, then stop; what could not be written by then is counted dropped."""
        self._give_up_at = time.monotonic() + timeout
        self._batches.close(timeout + 1.0)
        self.publish()


class _Batches(QueueWorker[Record]):
    """The writer's queue and thread: batches of up to `batch_size` records, gathered for `flush_interval`."""

    def __init__(self, writer: ObservationWriter, max_queue: int) -> None:
        self.writer = writer
        super().__init__("observation-writer", max_queue=max_queue, max_batch=writer.batch_size,
                         gather_s=writer.flush_interval, poll_s=writer.flush_interval,
                         counters=("written", "failed", "refused"))

    def handle(self, jobs: list[Record]) -> None:
        self.writer._write(jobs)

    def between_batches(self) -> None:
        self.writer._publish_when_due()


def admissible(session: Session, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The rows whose participant still exists and whose lesson exists and had not ended at the row's time: the
    database never holds an observation of an erased participant or from after its lesson's end."""
    participant_ids = {r["participant_id"] for r in rows if r["participant_id"] is not None}
    present = set(session.scalars(select(Participant.id).where(Participant.id.in_(participant_ids)))) if participant_ids else set()
    lessons = dict(session.execute(select(LessonSession.id, LessonSession.ended_at)
                                   .where(LessonSession.id.in_({r["session_id"] for r in rows}))).tuples().all())

    def ok(row: dict[str, object]) -> bool:
        if row["session_id"] not in lessons or (row["participant_id"] is not None and row["participant_id"] not in present):
            return False
        ended = lessons[row["session_id"]]  # type: ignore[index]
        return ended is None or aware(row["ts"]) <= aware(ended)  # type: ignore[arg-type]

    return [r for r in rows if ok(r)]



class RateLimitedLog:
    """A warning at most once per interval, with how many were held back since the last one."""

    def __init__(self, interval: float) -> None:
        self.interval, self._last, self._held = interval, -float("inf"), 0

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._held += 1
            return
        suffix = f" ({self._held} more since the last warning)" if self._held else ""
        log.warning(message + suffix, *args)
        self._last, self._held = now, 0


@dataclass(frozen=True)
class AllWriters:
    """Every app process's writer counts added up, as last published, and the records the database holds."""

    stored: int
    instances: int
    since: datetime | None
    written: int
    dropped: int
    failed: int
    refused: int


def all_writers(session: Session) -> AllWriters:
    stored = session.scalar(select(func.count(ObservationRow.id))) or 0
    rows = list(session.scalars(select(WriterCounters)))
    return AllWriters(int(stored), len(rows), min((r.started_at for r in rows), default=None),
                      sum(r.written for r in rows), sum(r.dropped for r in rows), sum(r.failed for r in rows),
                      sum(r.refused for r in rows))
