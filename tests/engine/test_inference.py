import threading
import time
from datetime import UTC, datetime

import numpy as np

from engine.inference import AnalysisJob, AnalysisResult, AnalysisWorker, analyse_jobs
from engine.types import Box
from tests.conftest import FakeClassifier

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def job(deliver, faces: int = 1) -> AnalysisJob:  # type: ignore[no-untyped-def]
    boxes = tuple(Box(10 + 70 * i, 10, 60, 60) for i in range(faces))
    return AnalysisJob(np.full((120, 320, 3), 100, np.uint8), tuple(range(1, faces + 1)), boxes, STAMP, deliver)


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition()


def test_analyse_jobs_keeps_each_jobs_faces_in_order(fake_classifier: FakeClassifier) -> None:
    results = analyse_jobs([job(print, 2), job(print, 1)], fake_classifier, None)
    assert [r.track_ids for r in results] == [(1, 2), (1,)]
    assert fake_classifier.calls == 1 and fake_classifier.faces == 3  # one batch for both jobs
    assert all(p is not None and p.label == "Happy" for r in results for p in r.predictions)
    assert results[0].attention == (None, None)


def test_without_a_classifier_only_attention_is_measured() -> None:
    class Signals:
        def attention(self, image, box):  # type: ignore[no-untyped-def]
            from engine.types import AttentionSignals

            return AttentionSignals(0.3, True, 1.0, 2.0, False)

    (result,) = analyse_jobs([job(print)], None, Signals())  # type: ignore[arg-type]
    assert result.predictions == (None,) and result.attention[0] is not None and result.attention[0].as_dict() == {
        "ear": 0.3, "eyes_open": True, "yaw": 1.0, "pitch": 2.0, "looking_away": False, "looking_down": False}


def test_the_worker_batches_faces_from_several_streams(fake_classifier: FakeClassifier) -> None:
    delivered: list[AnalysisResult] = []
    worker = AnalysisWorker(fake_classifier, None, gather_s=0.2)
    try:
        for _ in range(4):  # four streams hand over a face each within the gathering window
            assert worker.submit(job(delivered.append))
        wait_for(lambda: len(delivered) == 4)
    finally:
        worker.close()
    assert fake_classifier.calls == 1 and fake_classifier.faces == 4
    assert worker.stats.batches == 1 and worker.stats.faces == 4 and worker.stats.jobs == 4


def test_a_saturated_worker_refuses_without_blocking(fake_classifier: FakeClassifier) -> None:
    release = threading.Event()

    class Slow(FakeClassifier):
        def predict(self, crops):  # type: ignore[no-untyped-def]
            release.wait(5)
            return super().predict(crops)

    worker = AnalysisWorker(Slow(), None, gather_s=0.0, max_queue=1)
    try:
        assert worker.submit(job(print))
        wait_for(lambda: worker._queue.empty())  # the worker holds the first job
        assert worker.submit(job(print))  # fills the queue
        began = time.monotonic()
        assert not worker.submit(job(print))
        assert time.monotonic() - began < 0.1 and worker.stats.dropped == 1
    finally:
        release.set()
        worker.close()


def test_a_failing_batch_is_counted_and_the_worker_goes_on(fake_classifier: FakeClassifier) -> None:
    calls = []

    class Flaky(FakeClassifier):
        def predict(self, crops):  # type: ignore[no-untyped-def]
            calls.append(len(crops))
            if len(calls) == 1:
                raise RuntimeError("model failed")
            return super().predict(crops)

    delivered: list[AnalysisResult] = []
    worker = AnalysisWorker(Flaky(), None, gather_s=0.0)
    try:
        worker.submit(job(delivered.append))
        wait_for(lambda: worker.stats.errors == 1)
        worker.submit(job(delivered.append))
        wait_for(lambda: len(delivered) == 1)
    finally:
        worker.close()
    assert worker.stats.errors == 1 and worker.stats.faces == 1
