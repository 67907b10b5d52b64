"""Face analysis (emotion + attention signals) for due faces, inline or on one worker shared by every stream.

Streams used to classify in their own frame callback, so when several students' faces fell due at once their
callbacks queued behind the shared model's lock and the overlays stalled. With an `AnalysisWorker`, a callback
only hands over its due faces and returns; the worker gathers faces from all streams for a few milliseconds,
classifies them in one batch, measures attention, and delivers each stream's results to that stream's inbox,
which the stream applies on its next frame (its own thread is the only one that touches its tracks).
Frames handed over are held in memory until analysed and never stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.preprocess import crop_face, to_gray
from engine.types import AttentionSignals, Box, Prediction
from engine.workers import QueueWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis of the faces of one frame, in the order they were handed over."""

    stamp: datetime
    track_ids: tuple[int, ...]
    boxes: tuple[Box, ...]
    predictions: tuple[Prediction | None, ...]
    attention: tuple[AttentionSignals | None, ...]


@dataclass(frozen=True)
class AnalysisJob:
    """Faces of one frame to analyse; `deliver` receives the result (on the worker's thread)."""

    frame: np.ndarray
    track_ids: tuple[int, ...]
    boxes: tuple[Box, ...]
    stamp: datetime
    deliver: Callable[[AnalysisResult], object]
    attention: bool = True  # False when the stream already measures attention on every frame (blink tracking)


def analyse_jobs(jobs: list[AnalysisJob], classifier: EmotionClassifier | None,
                 attention: AttentionEstimator | None) -> list[AnalysisResult]:
    """Classify the faces of all jobs in one batch and measure attention per face; results in job order."""
    crops = []
    for job in jobs:
        gray = to_gray(job.frame)
        crops += [crop_face(gray, box) for box in job.boxes]
    predictions: list[Prediction | None] = list(classifier.predict(crops)) if classifier is not None else [None] * len(crops)
    results, start = [], 0
    for job in jobs:
        signals = tuple(attention.attention(job.frame, box) if attention is not None and job.attention else None
                        for box in job.boxes)
        n = len(job.boxes)
        results.append(AnalysisResult(job.stamp, job.track_ids, job.boxes, tuple(predictions[start : start + n]), signals))
        start += n
    return results


@dataclass(frozen=True)
class WorkerStats:
    jobs: int = 0
    faces: int = 0
    batches: int = 0
    dropped: int = 0  # jobs refused because the queue was full (the faces stay due and are handed over again)
    errors: int = 0


class AnalysisWorker(QueueWorker[AnalysisJob]):
    """One thread that analyses the due faces of every stream, batching what arrives within `gather_s` (at most
    `max_faces` faces); `nice` lowers its priority below the streams' own threads (engine.threads)."""

    def __init__(self, classifier: EmotionClassifier | None, attention: AttentionEstimator | None, *,
                 gather_s: float = 0.01, max_faces: int = 32, max_queue: int = 512, nice: int = 0) -> None:
        self.classifier, self.attention, self.max_faces = classifier, attention, max_faces
        super().__init__("analysis-worker", max_queue=max_queue, gather_s=gather_s, nice=nice,
                         counters=("jobs", "faces", "batches"))

    @property
    def stats(self) -> WorkerStats:
        counts = self.counters.snapshot()
        return WorkerStats(counts["jobs"], counts["faces"], counts["batches"], counts["dropped"], counts["errors"])

    def batch_full(self, jobs: list[AnalysisJob]) -> bool:
        return sum(len(job.boxes) for job in jobs) >= self.max_faces

    def handle(self, jobs: list[AnalysisJob]) -> None:
        results = analyse_jobs(jobs, self.classifier, self.attention)  # a failure: counted, those faces wait a turn
        for job, result in zip(jobs, results):
            try:
                job.deliver(result)
            except Exception:
                log.exception("analysis worker: delivery failed")
                self.counters.add("errors")
        self.counters.add("jobs", len(jobs))
        self.counters.add("faces", sum(len(j.boxes) for j in jobs))
        self.counters.add("batches")
