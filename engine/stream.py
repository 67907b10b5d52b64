"""StreamProcessor: one per video stream; detect, track, analyse due faces, annotate, hand off observations.

Threading: streamlit-webrtc calls `process` from its own worker thread, one per stream. The processor
holds no locks while it works; `latest` is replaced atomically, so another thread may read it at any time.
With a shared `AnalysisWorker`, due faces are analysed on the worker's thread and the results come back
through a thread-safe inbox that `process` applies on the next frame; without one they are analysed inline.
Likewise with a shared `ScanWorker`, full-frame scans run on its thread and their faces are applied on a later frame
(the stream follows its known faces meanwhile); without one, or with detect_interval 0, they run inline.
The sink must not block (the database writer only enqueues); its errors are logged and counted.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

import numpy as np

from engine.annotate import draw_faces
from engine.attention import AttentionEstimator, BlinkCounter
from engine.classifier import EmotionClassifier
from engine.detectors import FaceDetector, detect_near, detect_scaled, suppress_duplicates
from engine.inference import AnalysisJob, AnalysisResult, AnalysisWorker, analyse_jobs
from engine.scanning import ScanJob, ScanWorker
from engine.tracker import IouTracker, Track
from engine.types import AttentionSignals, Face, FaceResult, Observation

log = logging.getLogger(__name__)
Sink = Callable[[Observation], object]  # its return value is ignored


@dataclass(frozen=True)
class StreamStats:
    """Counters a stream exposes for monitoring."""

    frames: int = 0
    analyses: int = 0
    observations: int = 0
    frame_errors: int = 0
    sink_errors: int = 0


def due_tracks(tracks: list[Track], now: float) -> list[Track]:
    """Tracks never analysed or whose next analysis is due."""
    return [t for t in tracks if t.next_analysis is None or now >= t.next_analysis]


def next_analysis(previous: float | None, now: float, interval: float) -> float:
    """The next due time on a fixed schedule, so a face gets one analysis per `interval` on average however the
    frames fall (a gap-based rule loses up to a frame per interval); a schedule that fell behind restarts now."""
    due = (previous if previous is not None else now) + interval
    return due if due > now else now + interval


class StreamProcessor:
    """Turns the frames of one stream into annotated frames and per-face observations."""

    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier | None,
        sink: Sink | None = None,
        *,
        stream_id: str = "",
        analysis_interval: float = 1.0,
        detect_width: int = 320,
        detect_interval: float = 0.0,
        follow_interval: float = 0.0,
        rescan_interval: float = 0.0,
        min_hits: int = 3,
        attention: AttentionEstimator | None = None,
        blinks: bool = False,
        overlay: bool = True,
        worker: AnalysisWorker | None = None,
        scanner: ScanWorker | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.detector, self.classifier, self.sink = detector, classifier, sink
        self.stream_id, self.analysis_interval, self.detect_width = stream_id, analysis_interval, detect_width
        self.detect_interval, self.follow_interval = detect_interval, follow_interval
        self.rescan_interval = max(rescan_interval, detect_interval)
        self._last_scan: float | None = None
        self._last_follow: float | None = None
        self.overlay, self.attention, self.blinks, self.worker = overlay, attention, blinks, worker
        self.scanner = scanner if detect_interval > 0 else None  # 0 means a full scan of every frame, inline
        self._scans: deque[tuple[int, list[Face] | None]] = deque()  # the scanner's deliveries, with their generation
        self._scan_pending = False
        # The worker's deliveries, applied on this stream's thread. Each carries the generation it was handed over in:
        # close() starts a new one, and a late result must not land on a new track that reuses an old id.
        self._inbox: deque[tuple[int, AnalysisResult]] = deque()
        self._generation = 0
        self._blink_counters: dict[int, BlinkCounter] = {}
        self._attention: dict[int, AttentionSignals] = {}  # track id -> its latest signals
        self._clock, self._wallclock = clock, wallclock
        self.tracker = IouTracker(min_hits=min_hits)
        self.stats = StreamStats()
        self.latest: list[FaceResult] = []
        self.model_name = classifier.card.name if classifier is not None else "attention-only"

    def close(self) -> None:
        """Forget the stream's tracks and overlay when its video ends (the counters stay for the status line)."""
        self.tracker = IouTracker(min_hits=self.tracker.min_hits)
        self._last_scan = self._last_follow = None
        self._inbox.clear()
        self._scans.clear()
        self._scan_pending = False
        self._generation += 1
        self.latest = []
        self._attention, self._blink_counters = {}, {}
        log.info("stream %s ended: %s", self.stream_id, self.stats)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """The frame with boxes and labels drawn (when the overlay is on); never raises."""
        self.stats = replace(self.stats, frames=self.stats.frames + 1)
        try:
            results = self.analyse(frame)
        except Exception:  # one bad frame must never stop the stream or the server
            log.exception("stream %s: frame skipped", self.stream_id)
            self.stats = replace(self.stats, frame_errors=self.stats.frame_errors + 1)
            return frame
        self.latest = results
        return draw_faces(frame.copy(), results) if self.overlay and results else frame

    def analyse(self, frame: np.ndarray) -> list[FaceResult]:
        """Detect and track faces, analyse the ones that are due, emit their observations."""
        self._apply(self._take_results())
        now = self._clock()
        faces = self._detect(frame, now)
        seen = self.tracker.update(faces) if faces is not None else [t for t in self.tracker.tracks if t.missed == 0]
        self._forget_lost_tracks()
        tracks = [t for t in seen if t.confirmed]  # a face seen in one frame may be a detector's false alarm
        if self.blinks and self.attention is not None:
            self._count_blinks(frame, tracks, now)
        due = due_tracks(tracks, now)
        if due:
            self._analyse_due(frame, due, now)
        return [FaceResult(t.box, t.prediction, t.id, t.score, self._attention.get(t.id)) for t in tracks]

    def _scan_due(self, now: float) -> bool:
        """Full scans find faces: every `detect_interval` while a face is missing or none is followed, but only
        every `rescan_interval` while every known face is being followed (a full scan costs many region checks)."""
        if self._last_scan is None or now < self._last_scan or self.detect_interval <= 0:
            return True  # a detect_interval of 0 means a full scan of every frame
        settled = bool(self.tracker.tracks) and all(t.missed == 0 and t.confirmed for t in self.tracker.tracks)
        return now - self._last_scan >= (self.rescan_interval if settled else self.detect_interval)

    def _detect(self, frame: np.ndarray, now: float) -> list[Face] | None:
        """A full-frame scan when one is due (see `_scan_due`; every frame when the intervals are 0); in between,
        each known face is re-detected every `follow_interval` seconds in a small region around its last box,
        which costs a fraction of a scan. None on frames with neither: the tracks keep their boxes.
        With a scanner, a due scan is handed over and this frame is followed as usual; the scan's faces stand for
        the first frame after they arrive (a few frames old: the next follow brings the boxes up to date)."""
        scanned = self._take_scan()
        if scanned is not None:
            self._last_follow = now
            return scanned
        if self._scan_due(now) and not self._scan_pending:
            if self.scanner is None:
                self._last_scan = self._last_follow = now
                return detect_scaled(self.detector, frame, self.detect_width)
            job = ScanJob(frame, self.detect_width, partial(self._deliver_scan, self._generation))
            if self.scanner.submit(job):  # when the scanner is saturated, the scan stays due for the next frame
                self._scan_pending, self._last_scan = True, now
        if self._last_follow is not None and 0 <= now - self._last_follow < self.follow_interval:
            return None
        self._last_follow = now
        found = [face for track in self.tracker.tracks for face in detect_near(self.detector, frame, track.box)]
        return suppress_duplicates(found)

    def _forget_lost_tracks(self) -> None:
        """Drop per-track signals of tracks the tracker has let go, so a long stream's state stays bounded."""
        alive = {t.id for t in self.tracker.tracks}
        self._attention = {k: v for k, v in self._attention.items() if k in alive}
        self._blink_counters = {k: v for k, v in self._blink_counters.items() if k in alive}

    def _count_blinks(self, frame: np.ndarray, tracks: list[Track], now: float) -> None:
        """Feed every frame's eye aspect ratio to each track's blink counter (blinks last ~100-400 ms)."""
        assert self.attention is not None
        for track in tracks:
            state = self.attention.attention(frame, track.box)
            counter = self._blink_counters.setdefault(track.id, BlinkCounter())
            counter.update(now, state.ear)
            self._attention[track.id] = replace(state, blinks_per_minute=counter.per_minute())

    def _analyse_due(self, frame: np.ndarray, due: list[Track], now: float) -> None:
        """Analyse the due faces inline, or hand them to the shared worker (their results arrive in the inbox)."""
        job = AnalysisJob(frame, tuple(t.id for t in due), tuple(t.box for t in due), self._wallclock(),
                          partial(self._deliver, self._generation), attention=not self.blinks)
        if self.worker is None:
            self._apply([(self._generation, r) for r in analyse_jobs([job], self.classifier, self.attention)])
        elif not self.worker.submit(job):
            return  # the worker is saturated: the faces stay due and go with the next frame
        for track in due:
            track.next_analysis = next_analysis(track.next_analysis, now, self.analysis_interval)

    def _deliver_scan(self, generation: int, faces: list[Face] | None) -> None:
        self._scans.append((generation, faces))  # on the scanner's thread; deque.append is thread-safe

    def _take_scan(self) -> list[Face] | None:
        """The faces of this stream's finished scan, if one arrived (a failed scan only ends the wait)."""
        faces = None
        while self._scans:
            generation, delivered = self._scans.popleft()
            if generation == self._generation:  # a scan from before close() belongs to the old stream
                self._scan_pending, faces = False, delivered
        return faces

    def _deliver(self, generation: int, result: AnalysisResult) -> None:
        self._inbox.append((generation, result))  # deque.append is thread-safe

    def _take_results(self) -> list[tuple[int, AnalysisResult]]:
        results = []
        while self._inbox:
            results.append(self._inbox.popleft())
        return results

    def _apply(self, results: list[tuple[int, AnalysisResult]]) -> None:
        """Update the tracks that are still there and record every analysed face."""
        current = {t.id: t for t in self.tracker.tracks}
        for generation, result in results:
            alive = current if generation == self._generation else {}
            for track_id, box, prediction, signals in zip(result.track_ids, result.boxes, result.predictions, result.attention):
                track = alive.get(track_id)
                if track is not None and prediction is not None:
                    track.prediction = prediction
                if signals is not None and track is not None:
                    self._attention[track_id] = signals
                latest = signals if signals is not None else (self._attention.get(track_id) if alive else None)
                self._emit(Observation(result.stamp, track_id, box, prediction, self.model_name, self.stream_id, latest))
            self.stats = replace(self.stats, analyses=self.stats.analyses + len(result.track_ids))

    def _emit(self, observation: Observation) -> None:
        if self.sink is None:
            return
        try:
            self.sink(observation)
            self.stats = replace(self.stats, observations=self.stats.observations + 1)
        except Exception:
            log.exception("stream %s: sink failed", self.stream_id)
            self.stats = replace(self.stats, sink_errors=self.stats.sink_errors + 1)
