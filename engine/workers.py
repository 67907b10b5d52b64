"""The one way this product runs work off the video path: a bounded queue and one thread that takes batches off it.

`submit` never blocks: a full queue, or a worker that is closing, refuses the job and counts it as dropped, so the
caller (a stream's frame callback) decides what to do (try again on a later frame, or give the record up). The
thread gathers up to `max_batch` jobs, or for at most `gather_s` after the first one, and hands them to `handle`;
an exception there is logged and counted, and the worker goes on. `close` lets the thread finish what is queued
within its timeout and counts what is left as dropped. Counters are read and written under one lock.

The analysis and scan workers and the database writer are QueueWorkers. The frame pool that runs the streams' frame
callbacks (dashboard.webrtc.frame_pool) is not: it holds only each stream's newest frame, never a queue, on
several threads.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Generic, TypeVar

from engine.threads import background_thread

log = logging.getLogger(__name__)
J = TypeVar("J")


class Counters:
    """Named counters that many threads add to."""

    def __init__(self, names: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(names, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._values[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)

    def __getitem__(self, name: str) -> int:
        with self._lock:
            return self._values[name]


class QueueWorker(Generic[J]):
    """One background thread (`nice`: engine.threads) working off a queue of at most `max_queue` jobs in batches."""

    def __init__(self, name: str, *, max_queue: int, max_batch: int = 1, gather_s: float = 0.0, poll_s: float = 0.1,
                 nice: int = 0, counters: Iterable[str] = ()) -> None:
        self.name, self.max_batch, self.gather_s, self.poll_s = name, max_batch, gather_s, poll_s
        self.counters = Counters(("submitted", "dropped", "errors", *counters))
        self._queue: queue.Queue[J] = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._thread = background_thread(self._run, name, nice)

    def submit(self, job: J) -> bool:
        """Queue a job without blocking; False (and counted as dropped) when the queue is full or the worker closing."""
        if not self._stop.is_set():
            try:
                self._queue.put_nowait(job)
                self.counters.add("submitted")
                return True
            except queue.Full:
                pass
        self.counters.add("dropped")
        return False

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def handle(self, jobs: list[J]) -> None:
        """Do a batch of jobs (on the worker's thread)."""
        raise NotImplementedError

    def batch_full(self, jobs: list[J]) -> bool:
        """Whether a batch being gathered is complete (by default: `max_batch` jobs)."""
        return len(jobs) >= self.max_batch

    def between_batches(self) -> None:
        """Called on the worker's thread after each batch and at least every `poll_s` while idle."""

    def close(self, timeout: float = 5.0) -> int:
        """Finish what is queued within `timeout`, then stop; returns (and counts as dropped) the jobs left undone."""
        self._stop.set()
        self._thread.join(timeout)
        left = 0
        while True:
            try:
                self._queue.get_nowait()
                left += 1
            except queue.Empty:
                break
        if left:
            log.error("%s: %d queued jobs were not done before closing", self.name, left)
            self.counters.add("dropped", left)
        return left

    def _gather(self, first: J) -> list[J]:
        jobs = [first]
        deadline = time.monotonic() + self.gather_s
        while not self.batch_full(jobs):
            left = deadline - time.monotonic()
            try:
                jobs.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=self.poll_s)
            except queue.Empty:
                self._between_batches()
                continue
            jobs = self._gather(first)
            try:
                self.handle(jobs)
            except Exception:  # a failure must not stop the worker
                log.exception("%s: a batch of %d failed", self.name, len(jobs))
                self.counters.add("errors")
            self._between_batches()

    def _between_batches(self) -> None:
        try:
            self.between_batches()
        except Exception:
            log.exception("%s: failed between batches", self.name)
