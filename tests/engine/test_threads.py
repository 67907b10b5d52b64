import os
import sys
import threading
import time

import pytest

from engine.inference import AnalysisWorker
from engine.scanning import ScanWorker
from engine.threads import background_thread, lower_priority
from tests.conftest import FakeClassifier, FakeDetector

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def niceness(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


def nice_seen_in_thread(nice: int) -> tuple[int, int | None]:
    """(the thread's nice value as the kernel reports it, what lower_priority returned), read inside a new thread."""
    seen: list[tuple[int, int | None]] = []

    def body() -> None:
        returned = lower_priority(nice)
        seen.append((niceness(threading.get_native_id()), returned))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(5)
    return seen[0]


@linux_only
def test_lower_priority_lowers_only_the_calling_thread() -> None:
    base = niceness(threading.get_native_id())
    expected = min(base + 3, 19)
    assert nice_seen_in_thread(3) == (expected, expected)
    assert niceness(threading.get_native_id()) == base  # the caller's own thread is untouched


@linux_only
def test_lower_priority_clamps_at_19() -> None:
    assert nice_seen_in_thread(100) == (19, 19)


def test_zero_leaves_the_priority_alone() -> None:
    base = niceness(threading.get_native_id())
    assert nice_seen_in_thread(0) == (base, None)


@linux_only
def test_background_thread_runs_the_target_at_the_lower_priority() -> None:
    seen: list[int] = []
    base = niceness(threading.get_native_id())
    thread = background_thread(lambda: seen.append(niceness(threading.get_native_id())), "bg-test", nice=2)
    thread.join(5)
    assert thread.daemon and thread.name == "bg-test" and seen == [min(base + 2, 19)]


@linux_only
def test_the_shared_workers_run_at_the_priority_they_are_given() -> None:
    base = niceness(threading.get_native_id())
    analysis = AnalysisWorker(FakeClassifier(), None, nice=4)
    scans = ScanWorker(FakeDetector([]), nice=4)
    plain = ScanWorker(FakeDetector([]))
    expected = [min(base + 4, 19)] * 2 + [base]
    try:
        ids = [w._thread.native_id for w in (analysis, scans, plain)]
        assert None not in ids
        deadline = time.monotonic() + 5  # each thread lowers its own priority as it starts
        while [niceness(i) for i in ids if i is not None] != expected and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [niceness(i) for i in ids if i is not None] == expected
    finally:
        for w in (analysis, scans, plain):
            w.close()
