import threading
import time

import numpy as np
import pytest

from engine.scanning import ScanJob, ScanWorker
from engine.stream import StreamProcessor
from engine.types import Box, Face
from tests.conftest import FakeClassifier, FakeDetector


def frame() -> np.ndarray:
    return np.full((240, 320, 3), 128, np.uint8)


class HeldScanner:
    """Takes scans and finishes them only when told, like a busy scan worker."""

    def __init__(self, detector: FakeDetector, accept: bool = True) -> None:
        self.detector, self.accept = detector, accept
        self.jobs: list[ScanJob] = []

    def submit(self, job: ScanJob) -> bool:
        if self.accept:
            self.jobs.append(job)
        return self.accept

    def finish(self) -> None:
        for job in self.jobs:
            job.deliver([Face(b) for b in self.detector.boxes])  # type: ignore[arg-type]
        self.jobs = []


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_worker_scans_on_its_thread_and_delivers_the_faces_scaled_back() -> None:
    detector = FakeDetector([Box(10, 10, 40, 40)])
    worker = ScanWorker(detector)
    got: list[tuple[list[Face] | None, str]] = []
    try:
        assert worker.submit(ScanJob(np.zeros((480, 640, 3), np.uint8), 320,
                                     lambda faces: got.append((faces, threading.current_thread().name))))
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        worker.close()
    faces, thread = got[0]
    assert thread == "scan-worker" and faces is not None and faces[0].box == Box(20, 20, 80, 80)  # found at half size
    assert worker.scans == 1 and worker.errors == 0


def test_a_failed_scan_delivers_none_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    class Flaky(FakeDetector):
        def detect(self, image, size_range=None):  # type: ignore[no-untyped-def]
            if self.calls == 0:
                self.calls += 1
                raise RuntimeError("bad scan")
            return super().detect(image, size_range)

    worker = ScanWorker(Flaky([Box(1, 1, 30, 30)]))
    got: list[list[Face] | None] = []
    try:
        for _ in range(2):
            worker.submit(ScanJob(frame(), 320, got.append))
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        worker.close()
    assert got[0] is None and got[1] is not None and len(got[1]) == 1
    assert worker.errors == 1 and "a scan failed" in caplog.text


def test_a_full_worker_refuses_without_blocking() -> None:
    release = threading.Event()

    class Stuck(FakeDetector):
        def detect(self, image, size_range=None):  # type: ignore[no-untyped-def]
            release.wait(5)
            return []

    worker = ScanWorker(Stuck([]), max_queue=1)
    try:
        results = [worker.submit(ScanJob(frame(), 320, lambda faces: None)) for _ in range(4)]
    finally:
        release.set()
        worker.close()
    assert results[0] and not all(results) and worker.dropped >= 1


def test_a_stream_follows_its_faces_while_a_scan_runs_and_applies_the_scan_on_a_later_frame(
        fake_classifier: FakeClassifier) -> None:
    clock, detector = Clock(), FakeDetector([Box(100, 60, 60, 60)])
    scanner = HeldScanner(detector)
    proc = StreamProcessor(detector, fake_classifier, clock=clock, min_hits=1, detect_interval=1.0,
                           follow_interval=0.0, scanner=scanner)  # type: ignore[arg-type]
    proc.process(frame())
    assert len(scanner.jobs) == 1 and detector.calls == 0 and proc.latest == []  # handed over, nothing scanned here
    clock.t = 0.1
    proc.process(frame())
    assert len(scanner.jobs) == 1  # one scan at a time per stream
    scanner.finish()
    clock.t = 0.2
    proc.process(frame())  # the scan's faces stand for this frame
    assert [r.box for r in proc.latest] == [Box(100, 60, 60, 60)] and detector.calls == 0
    clock.t = 0.3
    proc.process(frame())  # then the known face is followed in its region by the stream's own detector
    assert detector.sized_calls == 1 and len(proc.latest) == 1


def test_a_saturated_scanner_leaves_the_scan_due_and_a_scan_from_before_close_is_dropped(
        fake_classifier: FakeClassifier) -> None:
    clock, detector = Clock(), FakeDetector([Box(100, 60, 60, 60)])
    scanner = HeldScanner(detector, accept=False)
    proc = StreamProcessor(detector, fake_classifier, clock=clock, min_hits=1, detect_interval=1.0,
                           scanner=scanner)  # type: ignore[arg-type]
    proc.process(frame())
    scanner.accept = True
    clock.t = 0.1
    proc.process(frame())
    assert len(scanner.jobs) == 1  # tried again on the next frame, not a second later
    proc.close()
    scanner.finish()  # delivered after the stream ended: belongs to the old stream
    clock.t = 0.2
    proc.process(frame())
    assert proc.latest == [] and len(scanner.jobs) == 1  # not applied; the new stream scans afresh


def test_with_a_detect_interval_of_zero_every_frame_is_scanned_inline(fake_classifier: FakeClassifier) -> None:
    detector = FakeDetector([Box(100, 60, 60, 60)])
    scanner = HeldScanner(detector)
    proc = StreamProcessor(detector, fake_classifier, min_hits=1, detect_interval=0.0,
                           scanner=scanner)  # type: ignore[arg-type]
    proc.process(frame())
    assert scanner.jobs == [] and detector.calls == 1 and len(proc.latest) == 1
