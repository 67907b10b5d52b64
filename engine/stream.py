"""StreamProcessor: one per video stream; detect, track, classify due faces, annotate, hand off observations.

Threading: streamlit-webrtc calls `process` from its own worker thread, one per stream. The processor
holds no locks while it works; `latest` is replaced atomically, so another thread may read it at any time.
The sink must not block (the database writer only enqueues); its errors are logged and counted.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from engine.annotate import draw_faces
from engine.attention import AttentionEstimator, BlinkCounter
from engine.classifier import EmotionClassifier
from engine.detectors import FaceDetector, detect_scaled
from engine.preprocess import crop_face, to_gray
from engine.tracker import IouTracker, Track
from engine.types import FaceResult, Observation

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


def due_tracks(tracks: list[Track], now: float, interval: float) -> list[Track]:
    """Tracks never analysed or analysed at least `interval` seconds ago."""
    return [t for t in tracks if t.last_analysed is None or now - t.last_analysed >= interval]


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
        min_hits: int = 3,
        attention: AttentionEstimator | None = None,
        blinks: bool = False,
        overlay: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.detector, self.classifier, self.sink = detector, classifier, sink
        self.stream_id, self.analysis_interval, self.detect_width = stream_id, analysis_interval, detect_width
        self.overlay, self.attention, self.blinks = overlay, attention, blinks
        self._blink_counters: dict[int, BlinkCounter] = {}
        self._attention: dict[int, dict[str, float | bool]] = {}  # track id -> its latest signals
        self._clock, self._wallclock = clock, wallclock
        self.tracker = IouTracker(min_hits=min_hits)
        self.stats = StreamStats()
        self.latest: list[FaceResult] = []
        self.model_name = classifier.card.name if classifier is not None else "attention-only"

    def close(self) -> None:
        """Forget the stream's tracks and overlay when its video ends (the counters stay for the status line)."""
        self.tracker = IouTracker(min_hits=self.tracker.min_hits)
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
        """Detect and track faces, classify the ones that are due, emit their observations."""
        seen = self.tracker.update(detect_scaled(self.detector, frame, self.detect_width))
        self._forget_lost_tracks()
        tracks = [t for t in seen if t.confirmed]  # a face seen in one frame may be a detector's false alarm
        now = self._clock()
        if self.blinks and self.attention is not None:
            self._count_blinks(frame, tracks, now)
        due = due_tracks(tracks, now, self.analysis_interval)
        if due:
            self._classify(frame, due, now)
            self._emit(due)
        return [FaceResult(t.box, t.prediction, t.id, t.score, self._attention.get(t.id)) for t in tracks]

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
            self._attention[track.id] = {**state.as_dict(), "blinks_per_minute": counter.per_minute()}

    def _classify(self, frame: np.ndarray, due: list[Track], now: float) -> None:
        if self.classifier is not None:
            gray = to_gray(frame)
            predictions = self.classifier.predict([crop_face(gray, t.box) for t in due])
            for track, prediction in zip(due, predictions):
                track.prediction = prediction
        for track in due:
            track.last_analysed = now
            if self.attention is not None and not self.blinks:  # with blinks on, every frame already measured it
                self._attention[track.id] = self.attention.attention(frame, track.box).as_dict()
        self.stats = replace(self.stats, analyses=self.stats.analyses + len(due))

    def _emit(self, due: list[Track]) -> None:
        if self.sink is None:
            return
        stamp = self._wallclock()
        for track in due:
            observation = Observation(stamp, track.id, track.box, track.prediction, self.model_name, self.stream_id,
                                      self._attention.get(track.id, {}))
            try:
                self.sink(observation)
                self.stats = replace(self.stats, observations=self.stats.observations + 1)
            except Exception:
                log.exception("stream %s: sink failed", self.stream_id)
                self.stats = replace(self.stats, sink_errors=self.stats.sink_errors + 1)
