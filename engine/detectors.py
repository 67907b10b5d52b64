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

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        """Faces in a BGR (or gray) image; `size_range` (min, max pixels wide) narrows the search when the size is known."""
        ...


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (shipped with opencv-python-headless<5); ~15 ms at 320x240."""

    name = "haar"

    # Chosen on recall for small faces: `python -m benchmarks.detectors --haar-sweep 64` measured 0.787 plain
    # against 0.537 with equalizeHist; minNeighbors 4 and minSize 20 keep faces ~40 px wide at detection scale.
    # A search narrowed to a few sizes (`size_range`: a known face followed in its region) sees fewer neighbouring
    # hits across sizes, so it asks for `near_neighbors`: `python -m benchmarks.detectors --follow --faces 300`
    # re-found 0.59-0.76 of moving faces with 4 and 0.78-0.88 with 2, at the same cost, with no false follow on 400
    # non-faces at any of four face sizes (1 with 1 neighbour).
    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 4, min_size: int = 20, near_neighbors: int = 2) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise RuntimeError("this OpenCV build has no CascadeClassifier; install opencv-python-headless<5")
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"could not load the Haar cascade from {path}")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size
        self.near_neighbors = near_neighbors

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        gray = to_gray(image)
        low, high = size_range if size_range else (self.min_size, 0)
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.near_neighbors if size_range else self.min_neighbors,
            minSize=(max(low, self.min_size),) * 2, maxSize=(high, high),
        )
        return [Face(Box(int(x), int(y), int(w), int(h)), 1.0) for x, y, w, h in np.asarray(found).reshape(-1, 4)]


class MtcnnDetector:
    """MTCNN from the `mtcnn` package, which ships its weights; slower, finds more turned and small faces."""

    name = "mtcnn"

    def __init__(self, min_confidence: float = 0.9, min_size: int = 20) -> None:
        from mtcnn import MTCNN  # imported here: it loads TensorFlow

        self._mtcnn = MTCNN(stages="face_detection_only")
        self.min_confidence, self.min_size = min_confidence, min_size

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        low = max(size_range[0], self.min_size) if size_range else self.min_size
        found = self._mtcnn.detect_faces(rgb, min_face_size=low)
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


def detect_near(detector: FaceDetector, image: np.ndarray, box: Box, margin: float = 0.5, face_px: int = 28,
                size_slack: float = 1.3) -> list[Face]:
    """Re-detect a tracked face in a region around its last box, scaled so the face is about `face_px` wide and
    searched only between `face_px / size_slack` and `face_px * size_slack`.

    Far cheaper than a full-frame scan (a small region, a narrow range of sizes), so streams follow known faces
    this way between full scans.
    """
    side = max(box.w, box.h)
    cx, cy = box.center
    half = side * (0.5 + margin)
    height, width = image.shape[:2]
    x0, y0 = max(int(cx - half), 0), max(int(cy - half), 0)
    x1, y1 = min(int(cx + half), width), min(int(cy + half), height)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    roi = image[y0:y1, x0:x1]
    factor = min(1.0, face_px / max(side, 1))
    if factor < 1.0:
        roi = cv2.resize(roi, (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor))),
                         interpolation=cv2.INTER_AREA)
    expected = side * factor
    faces = detector.detect(roi, (int(expected / size_slack), int(expected * size_slack) + 1))
    return [Face(Box(x0 + round(f.box.x / factor), y0 + round(f.box.y / factor), round(f.box.w / factor),
                     round(f.box.h / factor)), f.score) for f in faces]


def suppress_duplicates(faces: list[Face], max_iou: float = 0.5) -> list[Face]:
    """Keep the higher-scoring (then larger) face of any pair overlapping more than `max_iou`."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: (f.score, f.box.area), reverse=True):
        if all(face.box.iou(k.box) <= max_iou for k in kept):
            kept.append(face)
    return kept


def make_detector(name: str) -> FaceDetector:
    """A detector by its settings name."""
    if name == "haar":
        return HaarDetector()
    if name == "mtcnn":
        return MtcnnDetector()
    raise ValueError(f"unknown detector {name!r}; choose haar or mtcnn")
