"""Offline analysis of still images and recorded videos, shared by the CLI and the still-image view."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.detectors import FaceDetector
from engine.identity import Identities, IdentityRules, Sighting, identify, signature
from engine.media import MediaError
from engine.preprocess import crop_face, to_gray
from engine.stream import StreamProcessor
from engine.types import FaceResult, Observation, Prediction
from engine.video import VideoReader


def analyse_image(image: np.ndarray, detector: FaceDetector, classifier: EmotionClassifier | None,
                  attention: AttentionEstimator | None = None) -> list[FaceResult]:
    """Every face in a BGR image, left to right, with its probabilities (None when emotion inference is off)
    and its attention signals (None without the landmark model)."""
    faces = sorted(detector.detect(image), key=lambda f: (f.box.x, f.box.y))
    predictions: list[Prediction | None] = [None] * len(faces)
    if classifier is not None and faces:
        gray = to_gray(image)
        predictions = list(classifier.predict([crop_face(gray, f.box) for f in faces]))
    return [FaceResult(f.box, p, None, f.score, attention.attention(image, f.box) if attention else None)
            for f, p in zip(faces, predictions)]


def face_to_json(result: FaceResult) -> dict[str, object]:
    """The CLI's JSON shape for one face."""
    item: dict[str, object] = {"box": result.box.as_list(), "detector_score": round(result.detector_score, 4)}
    if result.prediction is not None:
        item.update(label=result.prediction.label, confidence=result.prediction.confidence,
                    probabilities=result.prediction.as_dict())
    if result.attention is not None:
        item["attention"] = result.attention.as_dict()
    return item


@dataclass
class ParticipantSummary:
    """What one participant of a recording did: observations, first and last second seen, mean probabilities."""

    participant: int
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


@dataclass(frozen=True)
class RecordingOptions:
    """How a recording is analysed. Faces are followed on `look_rate` frames a second (default: twice the analysis
    rate, at least 2) and analysed `rate` times a second; full scans for faces run on a copy `detect_width` wide
    every `scan_interval` seconds while a face is missing and every `rescan_interval` while all are followed.

    640 px finds the faces of a video call's gallery (Haar's 24-px window: faces at least 4 % of the frame's width,
    about 70 px on 1080p); a classroom camera's back rows need `small_faces()` (SMALL_FACES_WIDTH)."""

    rate: float = 1.0
    look_rate: float | None = None
    detect_width: int = 640
    scan_interval: float = 2.0
    rescan_interval: float = 5.0
    min_hits: int = 2
    identity: IdentityRules = field(default_factory=IdentityRules)

    @property
    def look_every(self) -> float:
        return 1.0 / (self.look_rate if self.look_rate else max(2.0 * self.rate, 2.0))

    def small_faces(self) -> RecordingOptions:
        """These options scanning for faces down to about 2 % of the frame's width (about 40 px on 1080p), as a
        classroom camera shows a class; scans cost about four times as much."""
        return replace(self, detect_width=max(self.detect_width, SMALL_FACES_WIDTH))


SMALL_FACES_WIDTH = 1280


@dataclass
class RecordingResult:
    """A recording's kept observations (`track_id` holds the participant number) and what it took."""

    observations: list[Observation]
    participants: dict[int, ParticipantSummary]
    identities: Identities
    frames_decoded: int
    frames_looked: int
    seconds: float  # of video
    started: datetime  # the time stamp of the video's first frame


def analyse_recording(frames: Iterable[tuple[float, np.ndarray]], detector: FaceDetector,
                      classifier: EmotionClassifier | None, *, options: RecordingOptions, started: datetime,
                      attention: AttentionEstimator | None = None,
                      on_frame: Callable[[float], object] = lambda t: None,
                      frames_decoded: Callable[[], int] = lambda: 0) -> RecordingResult:
    """Follow and analyse the faces of a recording's sampled frames (`VideoReader.sample(options.look_every)`) on
    the video's own clock, then join the tracks into participants (engine.identity)."""
    video_time = [0.0]
    raw: list[Observation] = []
    processor = StreamProcessor(
        detector, classifier, raw.append, stream_id="video", analysis_interval=1.0 / options.rate,
        attention=attention, detect_width=options.detect_width, detect_interval=options.scan_interval,
        rescan_interval=options.rescan_interval, min_hits=options.min_hits, overlay=False,
        clock=lambda: video_time[0], wallclock=lambda: started + timedelta(seconds=video_time[0]),
    )
    sightings: list[Sighting] = []
    looked = 0
    for seconds, frame in frames:
        video_time[0] = seconds
        before = len(raw)
        processor.process(frame)
        for index in range(before, len(raw)):
            obs = raw[index]
            sightings.append(Sighting(index, obs.track_id, seconds, obs.box, signature(frame, obs.box)))
        looked += 1
        on_frame(seconds)
    identities = identify(sightings, options.identity)
    kept: list[Observation] = []
    participants: dict[int, ParticipantSummary] = {}
    for index, obs in enumerate(raw):
        number = identities.participant_of.get(index)
        if number is None:
            continue
        kept.append(replace(obs, track_id=number))
        participants.setdefault(number, ParticipantSummary(number)).add(
            (obs.timestamp - started).total_seconds(), obs.prediction)
    return RecordingResult(kept, dict(sorted(participants.items())), identities, frames_decoded(), looked,
                           video_time[0], started)


def analyse_video(reader: VideoReader, detector: FaceDetector, classifier: EmotionClassifier | None, *,
                  options: RecordingOptions, started: datetime, attention: AttentionEstimator | None = None,
                  on_frame: Callable[[float], object] = lambda t: None) -> RecordingResult:
    """`analyse_recording` over a video read at the rate the options need; MediaError when no frame decodes."""
    decoded = [0]
    frames = reader.sample(options.look_every, lambda t: decoded.__setitem__(0, decoded[0] + 1))
    result = analyse_recording(frames, detector, classifier, options=options, started=started, attention=attention,
                               on_frame=on_frame, frames_decoded=lambda: decoded[0])
    if result.frames_decoded == 0:
        raise MediaError(f"{reader.path}: no frame could be decoded (corrupt or empty video)")
    return result
