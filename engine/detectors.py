"""Face detection behind one small interface, with offline backends: OpenCV Haar, MediaPipe's BlazeFace and MTCNN."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from engine.preprocess import to_gray
from engine.types import Box, Face

log = logging.getLogger(__name__)


class FaceDetector(Protocol):
    """Finds faces in a BGR (or gray) uint8 image; boxes are in that image's pixel coordinates."""

    name: str
    near_face_px: int  # how wide a followed face is made for `detect_near`: what the detector finds best

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        """Faces in a BGR (or gray) image; `size_range` (min, max pixels wide) narrows the search when the size is known."""
        ...


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (shipped with opencv-python-headless<5); ~15 ms at 320x240."""

    name = "haar"
    near_face_px = 28

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
    near_face_px = 28

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


BLAZEFACE_MODEL = Path(__file__).resolve().parents[1] / "models" / "blazeface" / "face_detection_short_range.tflite"


def ssd_anchors(size: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """BlazeFace's anchor centres (x, y in [0, 1]), in the model's output order: per (stride, anchors per cell)
    layer, row by row, cell by cell."""
    centres: list[tuple[float, float]] = []
    for stride, per_cell in layers:
        grid = size // stride
        for y in range(grid):
            for x in range(grid):
                centres += [((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell
    return np.array(centres, np.float32)


class BlazeFaceDetector:
    """MediaPipe's short-range BlazeFace (faces within about 2 m of a webcam), run with LiteRT: finds faces tipped
    down over a desk or turned aside that the frontal Haar cascade loses; ~1.5 ms a call whatever the image, since
    it is letterboxed to the model's 128x128 input, so small faces in a wide frame are out of its reach (photos and
    recordings keep Haar). Thread-safe: one interpreter, one call at a time."""

    name = "blazeface"
    # min_score 0.7 rather than MediaPipe's 0.5: lower thresholds found faces in some of the non-face patches of
    # `python -m benchmarks.detectors --sizes` (0.7 finds none of them), higher ones lost faces
    near_face_px = 64  # a followed face's region, twice its width, then fills the model's input
    SIZE, LAYERS = 128, ((8, 2), (16, 6))

    def __init__(self, model_path: Path = BLAZEFACE_MODEL, min_score: float = 0.7, max_overlap: float = 0.3,
                 threads: int = 1) -> None:
        from engine.classifier import tflite_interpreter_class

        if not model_path.exists():
            raise RuntimeError(f"BlazeFace's model is missing: {model_path} (python scripts/fetch_facemesh.py)")
        self._interp = tflite_interpreter_class()(model_path=str(model_path), num_threads=threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        outputs = self._interp.get_output_details()
        self._boxes = next(d["index"] for d in outputs if d["shape"][-1] == 16)
        self._scores = next(d["index"] for d in outputs if d["shape"][-1] == 1)
        self._anchors = ssd_anchors(self.SIZE, self.LAYERS)
        self.min_score, self.max_overlap = min_score, max_overlap
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        height, width = bgr.shape[:2]
        side = max(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        square = cv2.copyMakeBorder(bgr, top, side - height - top, left, side - width - left, cv2.BORDER_CONSTANT)
        rgb = cv2.cvtColor(cv2.resize(square, (self.SIZE, self.SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        with self._lock:
            self._interp.set_tensor(self._input, (rgb.astype(np.float32) / 127.5 - 1.0)[np.newaxis])
            self._interp.invoke()
            raw = np.array(self._interp.get_tensor(self._boxes)[0])
            logits = np.array(self._interp.get_tensor(self._scores)[0, :, 0])
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0)))
        keep = np.flatnonzero(scores >= self.min_score)
        if keep.size == 0:
            return []
        centres = raw[keep, :2] / self.SIZE + self._anchors[keep]
        sizes = raw[keep, 2:4] / self.SIZE
        boxes = np.concatenate([centres - sizes / 2, sizes], axis=1) * side - np.array([left, top, 0, 0])
        chosen = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores[keep].tolist(), self.min_score,
                                             self.max_overlap)).reshape(-1)
        low, high = size_range if size_range else (0, side)
        faces = []
        for i in chosen:
            x, y, w, h = (int(round(v)) for v in boxes[i])
            if w > 0 and h > 0 and low <= w <= high:
                faces.append(Face(Box(x, y, w, h), float(scores[keep][i])))
        return faces


def detect_scaled(detector: FaceDetector, image: np.ndarray, max_width: int) -> list[Face]:
    """Detect on a copy at most `max_width` wide, boxes mapped back to the full image."""
    width = image.shape[1]
    if width <= max_width:
        return detector.detect(image)
    factor = max_width / width
    small = cv2.resize(image, (max_width, max(1, round(image.shape[0] * factor))), interpolation=cv2.INTER_AREA)
    return [Face(f.box.scaled(1 / factor), f.score) for f in detector.detect(small)]


def detect_near(detector: FaceDetector, image: np.ndarray, box: Box, margin: float = 0.5, face_px: int | None = None,
                size_slack: float = 1.3) -> list[Face]:
    """Re-detect a tracked face in a region around its last box, scaled so the face is about `face_px` wide (the
    detector's `near_face_px` unless given) and searched only between `face_px / size_slack` and
    `face_px * size_slack`.

    Far cheaper than a full-frame scan (a small region, a narrow range of sizes), so streams follow known faces
    this way between full scans.
    """
    face_px = face_px or detector.near_face_px
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


WEBCAM_ONLY = frozenset({"blazeface"})  # detectors that only see faces near a webcam (short range, 128-px input)


def wide_frame_detector(name: str) -> FaceDetector:
    """The detector for photos and recorded lessons, whose faces may be small in a wide frame: the configured one,
    unless it only sees faces near a webcam, then Haar."""
    if name in WEBCAM_ONLY:
        log.info("photos and recordings use the haar detector: %s only sees faces near a webcam", name)
        return HaarDetector()
    return make_detector(name)


def make_detector(name: str) -> FaceDetector:
    """A detector by its settings name."""
    if name == "haar":
        return HaarDetector()
    if name == "blazeface":
        return BlazeFaceDetector()
    if name == "mtcnn":
        return MtcnnDetector()
    raise ValueError(f"unknown detector {name!r}; choose haar, blazeface or mtcnn")
