"""The queue-and-thread skeleton every background worker shares, driven by events rather than sleeps."""
from __future__ import annotations

import threading

import pytest

from engine.workers import Counters, QueueWorker


class Recorder(QueueWorker[int]):
    """Records its batches; the first batch waits for `release` (a busy worker)."""

    def __init__(self, **kwargs: object) -> None:
        self.batches: list[list[int]] = []
        self.started, self.release, self.done = threading.Event(), threading.Event(), threading.Event()
        self.idle_calls = 0
        super().__init__("recorder", **kwargs)  # type: ignore[arg-type]

    def handle(self, jobs: list[int]) -> None:
        self.started.set()
        self.release.wait(10)
        if -1 in jobs:
            raise RuntimeError("a bad job")
        self.batches.append(jobs)
        if sum(len(b) for b in self.batches) >= 6:
            self.done.set()

    def between_batches(self) -> None:
        self.idle_calls += 1


def test_jobs_waiting_while_busy_go_in_batches_of_at_most_max_batch() -> None:
    worker = Recorder(max_queue=10, max_batch=3)
    try:
        assert worker.submit(0)
        assert worker.started.wait(5)  # busy with [0]
        for job in range(1, 6):
            assert worker.submit(job)
        worker.release.set()
        assert worker.done.wait(5)
    finally:
        worker.close()
    assert worker.batches == [[0], [1, 2, 3], [4, 5]]
    assert worker.counters.snapshot() == {"submitted": 6, "dropped": 0, "errors": 0}


def test_a_full_queue_refuses_without_blocking_and_counts() -> None:
    worker = Recorder(max_queue=2)
    try:
        worker.submit(0)
        assert worker.started.wait(5)
        results = [worker.submit(job) for job in range(1, 6)]
        assert results == [True, True, False, False, False] and worker.counters["dropped"] == 3
    finally:
        worker.release.set()
        worker.close()


def test_a_failing_batch_is_counted_and_the_worker_goes_on() -> None:
    worker = Recorder(max_queue=10)
    worker.release.set()
    try:
        worker.submit(-1)
        for job in range(6):
            worker.submit(job)
        assert worker.done.wait(5)
    finally:
        worker.close()
    assert worker.counters["errors"] == 1 and [b[0] for b in worker.batches] == list(range(6))


def test_close_finishes_what_is_queued() -> None:
    worker = Recorder(max_queue=10, max_batch=2)
    worker.release.set()
    for job in range(6):
        worker.submit(job)
    assert worker.close(timeout=5) == 0
    assert sorted(j for b in worker.batches for j in b) == list(range(6))
    assert worker.submit(7) is False and worker.counters["dropped"] == 1  # closed: refused at once


def test_close_counts_what_it_could_not_finish_as_dropped() -> None:
    worker = Recorder(max_queue=10)
    worker.submit(0)
    assert worker.started.wait(5)
    for job in range(1, 4):
        worker.submit(job)
    assert worker.close(timeout=0.2) == 3  # still stuck on the first job
    assert worker.counters["dropped"] == 3
    worker.release.set()


def test_idle_workers_still_get_their_between_batches_turn() -> None:
    worker = Recorder(max_queue=1, poll_s=0.01)
    try:
        ticked = threading.Event()
        worker.between_batches = ticked.set  # type: ignore[method-assign]
        assert ticked.wait(5)
    finally:
        worker.close()


def test_counters_add_up_across_threads() -> None:
    counters = Counters(["n"])
    threads = [threading.Thread(target=lambda: [counters.add("n") for _ in range(10_000)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters["n"] == 80_000
    with pytest.raises(KeyError):
        counters.add("unknown")
