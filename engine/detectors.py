"""Face detection behind one small interface, with offline backends: OpenCV Haar (fast) and MTCNN (accurate)."""
from __future__ import annotations

import logging
from typing import Protocol

import cv2
import numpy as np

from engine.preprocess import to_gray
from engine.types import Box, Face

log = logging.getLogger(__name__)


class FaceDetector(Protocol):
    """Finds faces in a BGR (or gray) uint8 image; boxes are in that image's pixel coordinates."""

    name: str

    def detect(self, image: np.ndarray) -> list[Face]: ...


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (shipped with opencv-python-headless<5); ~15 ms at 320x240."""

    name = "haar"

    # Chosen on recall for small faces: `python -m benchmarks.detectors --haar-sweep 64` measured 0.787 plain
    # against 0.537 with equalizeHist; minNeighbors 4 and minSize 20 keep faces ~40 px wide at detection scale.
    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 4, min_size: int = 20) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise RuntimeError("this OpenCV build has no CascadeClassifier; install opencv-python-headless<5")
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"could not load the Haar cascade from {path}")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def detect(self, image: np.ndarray) -> list[Face]:
        gray = to_gray(image)
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )
        return [Face(Box(int(x), int(y), int(w), int(h)), 1.0) for x, y, w, h in np.asarray(found).reshape(-1, 4)]


class MtcnnDetector:
    """MTCNN from the `mtcnn` package, which ships its weights; slower, finds more turned and small faces."""

    name = "mtcnn"

    def __init__(self, min_confidence: float = 0.9, min_size: int = 20) -> None:
        from mtcnn import MTCNN  # imported here: it loads TensorFlow

        self._mtcnn = MTCNN(stages="face_detection_only")
        self.min_confidence, self.min_size = min_confidence, min_size

    def detect(self, image: np.ndarray) -> list[Face]:
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        found = self._mtcnn.detect_faces(rgb, min_face_size=self.min_size)
        faces = []
        for item in found:
            x, y, w, h = (int(v) for v in item["box"])
            if item["confidence"] >= self.min_confidence and w > 0 and h > 0:
                faces.append(Face(Box(x, y, w, h), float(item["confidence"])))
        return faces


def detect_scaled(detector: FaceDetector, image: np.ndarray, max_width: int) -> list[Face]:
    """Detect on a copy at most `max_width` wide, boxes mapped back to the full image."""
    width = image.shape[1]
    if width <= max_width:
        return detector.detect(image)
    factor = max_width / width
    small = cv2.resize(image, (max_width, max(1, round(image.shape[0] * factor))), interpolation=cv2.INTER_AREA)
    return [Face(f.box.scaled(1 / factor), f.score) for f in detector.detect(small)]


def make_detector(name: str) -> FaceDetector:
    """A detector by its settings name."""
    if name == "haar":
        return HaarDetector()
    if name == "mtcnn":
        return MtcnnDetector()
    raise ValueError(f"unknown detector {name!r}; choose haar or mtcnn")
