"""Offline analysis of still images and recorded videos, shared by the CLI and the still-image view."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.detectors import FaceDetector
from engine.preprocess import crop_face, to_gray
from engine.stream import StreamProcessor
from engine.types import FaceResult, Observation, Prediction


def analyse_image(image: np.ndarray, detector: FaceDetector, classifier: EmotionClassifier | None,
                  attention: AttentionEstimator | None = None) -> list[FaceResult]:
    """Every face in a BGR image, left to right, with its probabilities (None when emotion inference is off)
    and its attention signals (None without the landmark model)."""
    faces = sorted(detector.detect(image), key=lambda f: (f.box.x, f.box.y))
    predictions: list[Prediction | None] = [None] * len(faces)
    if classifier is not None and faces:
        gray = to_gray(image)
        predictions = list(classifier.predict([crop_face(gray, f.box) for f in faces]))
    return [FaceResult(f.box, p, None, f.score, attention.attention(image, f.box).as_dict() if attention else None)
            for f, p in zip(faces, predictions)]


def face_to_json(result: FaceResult) -> dict[str, object]:
    """The CLI's JSON shape for one face."""
    item: dict[str, object] = {"box": result.box.as_list(), "detector_score": round(result.detector_score, 4)}
    if result.prediction is not None:
        item.update(label=result.prediction.label, confidence=result.prediction.confidence,
                    probabilities=result.prediction.as_dict())
    if result.attention is not None:
        item["attention"] = result.attention
    return item


@dataclass
class TrackSummary:
    """What one tracked face did over a video."""

    track_id: int
    observations: int = 0
    first_s: float = 0.0
    last_s: float = 0.0
    probability_sums: dict[str, float] = field(default_factory=dict)

    def add(self, seconds: float, prediction: Prediction | None) -> None:
        if self.observations == 0:
            self.first_s = seconds
        self.observations += 1
        self.last_s = seconds
        for label, p in (prediction.as_dict().items() if prediction else ()):
            self.probability_sums[label] = self.probability_sums.get(label, 0.0) + p

    @property
    def mean_probabilities(self) -> dict[str, float]:
        return {k: v / self.observations for k, v in self.probability_sums.items()}

    @property
    def dominant(self) -> str | None:
        means = self.mean_probabilities
        return max(means, key=means.__getitem__) if means else None


@dataclass
class VideoResult:
    """All observations of a video and the per-track summaries."""

    observations: list[Observation]
    tracks: dict[int, TrackSummary]
    frames: int


def analyse_video(frames: Iterator[tuple[float, np.ndarray]], detector: FaceDetector,
                  classifier: EmotionClassifier | None, *, interval: float, detect_width: int,
                  started: datetime, on_frame: Callable[[], None] = lambda: None,
                  attention: AttentionEstimator | None = None) -> VideoResult:
    """Run a video's frames through a StreamProcessor on the video's own clock (not wall time)."""
    video_time = [0.0]
    observations: list[Observation] = []
    processor = StreamProcessor(
        detector, classifier, observations.append, stream_id="video", analysis_interval=interval, attention=attention,
        detect_width=detect_width, overlay=False, clock=lambda: video_time[0],
        wallclock=lambda: started + timedelta(seconds=video_time[0]),
    )
    tracks: dict[int, TrackSummary] = {}
    count = 0
    for seconds, frame in frames:
        video_time[0] = seconds
        before = len(observations)
        processor.process(frame)
        for obs in observations[before:]:
            tracks.setdefault(obs.track_id, TrackSummary(obs.track_id)).add(seconds, obs.prediction)
        count += 1
        on_frame()
    return VideoResult(observations, tracks, count)
