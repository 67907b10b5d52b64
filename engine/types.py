"""Typed results shared by the engine, the database layer and the dashboard."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


ATTENTION_STATES = ("attentive", "looking_down", "looking_away", "eyes_closed")


@dataclass(frozen=True)
class AttentionSignals:
    """What the facial landmarks say about one face at one moment; stored as JSON with its observation."""

    ear: float  # mean eye aspect ratio of both eyes
    eyes_open: bool
    yaw: float  # degrees, positive: the face turned towards the image's right
    pitch: float  # degrees, positive: the face tilted up
    looking_away: bool  # turned aside or up
    looking_down: bool = False  # head pitched down: reading, writing or a phone below the camera
    blinks_per_minute: float | None = None  # only where blinks are counted (landmarks on every frame)

    @property
    def state(self) -> str:
        """The one state of ATTENTION_STATES this face is in (they partition the records): turned away first, then
        looking down (whatever the lids do), then eyes open (attentive) or closed."""
        if self.looking_away:
            return "looking_away"
        if self.looking_down:
            return "looking_down"
        return "attentive" if self.eyes_open else "eyes_closed"

    def as_dict(self) -> dict[str, float | bool]:
        out: dict[str, float | bool] = {
            "ear": round(self.ear, 4), "eyes_open": self.eyes_open, "yaw": round(self.yaw, 1),
            "pitch": round(self.pitch, 1), "looking_away": self.looking_away, "looking_down": self.looking_down}
        if self.blinks_per_minute is not None:
            out["blinks_per_minute"] = self.blinks_per_minute
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AttentionSignals | None:
        """The signals stored with an observation; None when it holds none. Records from before looking down was
        told apart read as not looking down."""
        if "eyes_open" not in data or "looking_away" not in data:
            return None
        blinks = data.get("blinks_per_minute")
        return cls(float(data.get("ear", 0.0)), bool(data["eyes_open"]), float(data.get("yaw", 0.0)),  # type: ignore[arg-type]
                   float(data.get("pitch", 0.0)), bool(data["looking_away"]), bool(data.get("looking_down", False)),  # type: ignore[arg-type]
                   float(blinks) if blinks is not None else None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaceResult:
    """One analysed face: where it is, which track it belongs to, and what the model said."""

    box: Box
    prediction: Prediction | None
    track_id: int | None = None
    detector_score: float = 1.0
    attention: AttentionSignals | None = None  # None without the landmark model


@dataclass(frozen=True)
class Observation:
    """A time-stamped record of one tracked face, handed to the recording sink."""

    timestamp: datetime
    track_id: int
    box: Box
    prediction: Prediction | None
    model_name: str
    stream_id: str = ""
    attention: AttentionSignals | None = None
