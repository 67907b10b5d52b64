"""Full-frame face scans on one thread shared by every stream.

A stream follows its known faces in small regions (a millisecond or two) but scans the whole frame for faces once
a second while one is missing and every ten seconds while all are followed, and a Haar scan of a 240-px copy takes
tens of milliseconds. Inline, each scan held the thread that runs the frame callbacks of every student (the app's
shared frame threads) and the others' frames waited. With a `ScanWorker`, a stream hands the frame over, goes on
following its faces, and applies the scan's faces on a later frame (see `engine.stream`). Frames handed over are
held in memory until scanned and never stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.detectors import FaceDetector, detect_scaled
from engine.types import Face
from engine.workers import QueueWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanJob:
    """One frame to scan at `width` pixels; `deliver` gets the faces, or None when the scan failed (on the worker)."""

    frame: np.ndarray
    width: int
    deliver: Callable[[list[Face] | None], object]


class ScanWorker(QueueWorker[ScanJob]):
    """One thread that scans the frames streams hand over, in turn, with its own detector (OpenCV's detectors must
    not be shared between threads); `nice` lowers its priority below the streams' own threads (engine.threads)."""

    def __init__(self, detector: FaceDetector, max_queue: int = 64, nice: int = 0) -> None:
        self.detector = detector
        super().__init__("scan-worker", max_queue=max_queue, nice=nice, counters=("scans",))

    @property
    def scans(self) -> int:
        return self.counters["scans"]

    @property
    def errors(self) -> int:
        return self.counters["errors"]

    @property
    def dropped(self) -> int:
        return self.counters["dropped"]

    def handle(self, jobs: list[ScanJob]) -> None:
        for job in jobs:
            faces: list[Face] | None
            try:
                faces = detect_scaled(self.detector, job.frame, job.width)
                self.counters.add("scans")
            except Exception:  # a failure must not stop the worker; the stream scans again at its next turn
                log.exception("scan worker: a scan failed")
                self.counters.add("errors")
                faces = None
            try:
                job.deliver(faces)
            except Exception:
                log.exception("scan worker: delivery failed")
