"""The observation writer: a bounded queue the video threads put into, and one thread that commits batches.

`submit` never blocks; when the queue is full the record is dropped and counted, never silently.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.schema import PROBABILITY_COLUMNS, ObservationRow
from engine.types import Observation

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
    dropped: int
    failed: int
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
        "model_name": obs.model_name, "extras": json.dumps(obs.extras) if obs.extras else None,
    }


class ObservationWriter:
    """Takes records off the video threads and commits them in batches on its own thread."""

    def __init__(self, sessions: sessionmaker[Session], *, max_queue: int = 20_000, batch_size: int = 500,
                 flush_interval: float = 0.25, retries: int = 8) -> None:
        self._sessions = sessions
        self._queue: queue.Queue[Record] = queue.Queue(max_queue)
        self.batch_size, self.flush_interval, self.retries = batch_size, flush_interval, retries
        self._counts = {"submitted": 0, "written": 0, "dropped": 0, "failed": 0}
        self._counts_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observation-writer", daemon=True)
        self._thread.start()

    def submit(self, session_id: int, participant_id: int | None, observation: Observation) -> bool:
        """Enqueue without blocking; False (and counted) when the queue is full or the writer stopped."""
        ok = not self._stop.is_set()
        if ok:
            try:
                self._queue.put_nowait(Record(session_id, participant_id, observation))
            except queue.Full:
                ok = False
        self._count("submitted" if ok else "dropped")
        return ok

    def _count(self, key: str, n: int = 1) -> None:
        with self._counts_lock:
            self._counts[key] += n

    @property
    def stats(self) -> WriterStats:
        with self._counts_lock:
            return WriterStats(**self._counts, queued=self._queue.qsize())

    def _take_batch(self) -> list[Record]:
        batch: list[Record] = []
        deadline = time.monotonic() + self.flush_interval
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.001)))
            except queue.Empty:
                break
        return batch

    def _commit(self, batch: list[Record]) -> None:
        rows = [to_row(r) for r in batch]
        for attempt in range(self.retries):
            try:
                with self._sessions.begin() as session:
                    session.execute(insert(ObservationRow), rows)
                self._count("written", len(rows))
                return
            except OperationalError as exc:  # "database is locked" and friends: wait and retry
                log.warning("writer: batch of %d failed (attempt %d): %s", len(rows), attempt + 1, exc.orig)
                time.sleep(min(0.05 * 2**attempt, 2.0))
        log.error("writer: gave up on a batch of %d observations", len(rows))
        self._count("failed", len(rows))

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._take_batch()
            if batch:
                try:
                    self._commit(batch)
                except Exception:  # a bad record must not kill the writer thread
                    log.exception("writer: batch of %d observations failed", len(batch))
                    self._count("failed", len(batch))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (or failed); True if the queue drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.stats
            if s.queued == 0 and s.written + s.failed >= s.submitted:
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout)
