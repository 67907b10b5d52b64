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
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.detectors import FaceDetector, detect_scaled
from engine.threads import background_thread
from engine.types import Face

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanJob:
    """One frame to scan at `width` pixels; `deliver` gets the faces, or None when the scan failed (on the worker)."""

    frame: np.ndarray
    width: int
    deliver: Callable[[list[Face] | None], object]


class ScanWorker:
    """One thread that scans the frames streams hand over, in turn, with its own detector (OpenCV's detectors must
    not be shared between threads); `nice` lowers its priority below the streams' own threads (engine.threads)."""

    def __init__(self, detector: FaceDetector, max_queue: int = 64, nice: int = 0) -> None:
        self.detector = detector
        self.scans = self.errors = self.dropped = 0  # written on the worker's thread (dropped: by submitters, locked)
        self._dropped_lock = threading.Lock()
        self._queue: queue.Queue[ScanJob | None] = queue.Queue(max_queue)
        self._thread = background_thread(self._run, "scan-worker", nice)  # nice: engine.threads

    def submit(self, job: ScanJob) -> bool:
        """Queue a scan without blocking; False when the worker is saturated (the stream tries again later)."""
        try:
            self._queue.put_nowait(job)
            return True
        except queue.Full:
            with self._dropped_lock:  # many streams submit at once
                self.dropped += 1
            return False

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("scan worker: queue still full at close")
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            faces: list[Face] | None
            try:
                faces = detect_scaled(self.detector, job.frame, job.width)
                self.scans += 1
            except Exception:  # a failure must not stop the worker; the stream scans again at its next turn
                log.exception("scan worker: a scan failed")
                self.errors += 1
                faces = None
            try:
                job.deliver(faces)
            except Exception:
                log.exception("scan worker: delivery failed")
