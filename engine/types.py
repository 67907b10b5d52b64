"""Typed results shared by the engine, the database layer and the dashboard."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# FER2013's label order: index i of the dataset's `emotion` column is EMOTIONS[i].
EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NEGATIVE_EMOTIONS: frozenset[str] = frozenset({"Angry", "Disgust", "Fear", "Sad"})


@dataclass(frozen=True)
class Box:
    """An axis-aligned face box in pixel coordinates of the analysed frame."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def iou(self, other: Box) -> float:
        """Intersection over union of two boxes (0 when they do not overlap)."""
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2 = min(self.x + self.w, other.x + other.w)
        y2 = min(self.y + self.h, other.y + other.h)
        inter = max(0, x2 - x1) * max(0, y2 - y1)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def scaled(self, factor: float) -> Box:
        """The same box in a frame `factor` times as large."""
        return Box(round(self.x * factor), round(self.y * factor), round(self.w * factor), round(self.h * factor))

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class Face:
    """A detected face: its box and the detector's confidence."""

    box: Box
    score: float = 1.0


@dataclass(frozen=True)
class Prediction:
    """Class probabilities for one face, in the order of `labels`."""

    labels: tuple[str, ...]
    probabilities: tuple[float, ...]

    @property
    def label(self) -> str:
        return self.labels[self.top_index]

    @property
    def confidence(self) -> float:
        return self.probabilities[self.top_index]

    @property
    def top_index(self) -> int:
        return max(range(len(self.probabilities)), key=self.probabilities.__getitem__)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.labels, self.probabilities))


@dataclass(frozen=True)
class FaceResult:
    """One analysed face: where it is, which track it belongs to, and what the model said."""

    box: Box
    prediction: Prediction | None
    track_id: int | None = None
    detector_score: float = 1.0
    attention: dict[str, float | bool] | None = None  # eyes_open, ear, yaw, pitch, looking_away, looking_down


@dataclass(frozen=True)
class Observation:
    """A time-stamped record of one tracked face, handed to the recording sink."""

    timestamp: datetime
    track_id: int
    box: Box
    prediction: Prediction | None
    model_name: str
    stream_id: str = ""
    extras: dict[str, float | bool] = field(default_factory=dict)
