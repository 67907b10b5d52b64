"""Attention signals from facial landmarks: eyes open or closed, blinks, head pose and looking away.

Landmarks come from MediaPipe's FaceMesh (468 points, models/facemesh/), run with LiteRT on the detector's box.
"""
from __future__ import annotations

import math
import threading
from collections import deque
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from engine.preprocess import crop_face
from engine.types import AttentionSignals, Box

MESH_SIZE = 192
ROI_MARGIN = 0.25  # FaceMesh expects the detection box enlarged 1.5x
# FaceMesh indices (subject's right eye is on the image's left): p1..p6 as in Soukupova & Cech's EAR
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)
CHIN, FOREHEAD = 152, 10
EAR_CLOSED = 0.2  # below: eyes closed (calibrated on the astronaut, open ~0.3, and her eyes painted shut)
# Looking down (reading, writing, a phone below the camera) lowers the upper lids with the gaze and foreshortens the
# eyes, so their aspect ratio falls towards a closed eye's: with the head pitched down the eyes count as closed
# only when nearly shut, and the face is "looking down", which is neither closed nor away.
EAR_CLOSED_LOOKING_DOWN = 0.08
LOOK_AWAY_YAW, LOOK_UP_PITCH = 30.0, 25.0
LOOK_DOWN_PITCH = -20.0  # FaceMesh reads a frontal face at about -10 (benchmarks.attention)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) for one eye's six landmarks (x, y)."""
    p = points[list(eye), :2]
    width = np.linalg.norm(p[0] - p[3])
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * width)) if width > 0 else 0.0


def head_pose(points: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees from FaceMesh's own 3-D landmarks: the normal of the plane spanned by the
    eye corners and the chin-to-forehead line (`python -m benchmarks.attention` shows it on the astronaut;
    a generic 6-point solvePnP head model was biased in pitch, its proportions not matching FaceMesh's)."""
    across = points[LEFT_EYE[3]] - points[RIGHT_EYE[0]]  # from the image-left eye corner to the image-right one
    up = points[FOREHEAD] - points[CHIN]
    normal = np.cross(across / (np.linalg.norm(across) or 1.0), up)
    normal /= np.linalg.norm(normal) or 1.0
    # image axes: x right, y down, z away from the camera; a frontal face's normal is (0, 0, -1)
    yaw = math.degrees(math.atan2(normal[0], -normal[2]))
    pitch = -math.degrees(math.atan2(normal[1], -normal[2]))
    return yaw, pitch


def contour_aspect_ratio(contour: np.ndarray) -> float:
    """EAR from the iris model's eye contour: 0-8 lower lid corner to corner, 9-15 upper lid."""
    width = np.linalg.norm(contour[0, :2] - contour[8, :2])
    heights = np.linalg.norm(contour[11, :2] - contour[3, :2]) + np.linalg.norm(contour[13, :2] - contour[5, :2])
    return float(heights / (2 * width)) if width > 0 else 0.0


def attention_from_landmarks(points: np.ndarray, ear: float | None = None) -> AttentionSignals:
    """The state from FaceMesh landmarks; `ear` from the iris model's eyelids when available (more faithful)."""
    if ear is None:
        ear = (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2
    yaw, pitch = head_pose(points)
    away = abs(yaw) > LOOK_AWAY_YAW or pitch > LOOK_UP_PITCH
    down = not away and pitch < LOOK_DOWN_PITCH
    return AttentionSignals(ear, ear >= (EAR_CLOSED_LOOKING_DOWN if down else EAR_CLOSED), yaw, pitch, away, down)


class AttentionEstimator(Protocol):
    """Anything that turns a face box in an image into attention signals (FaceMesh, or a fake in tests)."""

    def attention(self, image: np.ndarray, box: Box) -> AttentionSignals: ...


class EyeModel:
    """MediaPipe's iris model: a 71-point eye contour from a 64x64 crop around one eye."""

    SIZE, SCALE = 64, 2.3

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        from engine.classifier import tflite_interpreter_class

        self._interp = tflite_interpreter_class()(model_path=str(model_path), num_threads=threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        self._contour = self._interp.get_output_details()[0]["index"]

    def contour(self, image: np.ndarray, corner_a: np.ndarray, corner_b: np.ndarray, mirrored: bool) -> np.ndarray:
        """(71, 2) eye-contour points in image pixels; `mirrored` for the eye on the image's right."""
        centre = (corner_a[:2] + corner_b[:2]) / 2
        side = max(float(np.linalg.norm(corner_a[:2] - corner_b[:2])) * self.SCALE, 8.0)
        box = Box(round(centre[0] - side / 2), round(centre[1] - side / 2), round(side), round(side))
        crop = crop_face(image, box, margin=0.0)
        patch = cv2.cvtColor(cv2.resize(crop, (self.SIZE, self.SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        if mirrored:
            patch = patch[:, ::-1]
        self._interp.set_tensor(self._input, (patch.astype(np.float32) / 255.0)[np.newaxis])
        self._interp.invoke()
        points = np.array(self._interp.get_tensor(self._contour)).reshape(-1, 3)[:, :2]
        if mirrored:
            points[:, 0] = self.SIZE - points[:, 0]
        scale = crop.shape[0] / self.SIZE
        origin = np.array([round(box.center[0] - crop.shape[1] / 2), round(box.center[1] - crop.shape[0] / 2)])
        return points * scale + origin


class FaceMesh:
    """468 facial landmarks for a detected face box, refined eyelids from the iris model (thread-safe)."""

    def __init__(self, model_path: Path, threads: int = 1, eye_model_path: Path | None = None) -> None:
        from engine.classifier import tflite_interpreter_class

        eye_model_path = eye_model_path or model_path.with_name("iris_landmark.tflite")
        self._eyes = EyeModel(eye_model_path, threads) if eye_model_path.exists() else None
        self._interp = tflite_interpreter_class()(model_path=str(model_path), num_threads=threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        self._points, self._score = (d["index"] for d in self._interp.get_output_details())
        self._lock = threading.Lock()

    def landmarks(self, image: np.ndarray, box: Box) -> tuple[np.ndarray, float]:
        """(468, 3) landmarks in image pixels and the model's face-presence probability."""
        crop = crop_face(image, box, margin=ROI_MARGIN)
        side = crop.shape[0]
        rgb = cv2.cvtColor(cv2.resize(crop, (MESH_SIZE, MESH_SIZE), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        with self._lock:
            self._interp.set_tensor(self._input, (rgb.astype(np.float32) / 255.0)[np.newaxis])
            self._interp.invoke()
            raw = np.array(self._interp.get_tensor(self._points)).reshape(-1, 3)
            logit = float(np.array(self._interp.get_tensor(self._score)).reshape(-1)[0])
        scale = side / MESH_SIZE
        cx, cy = box.center
        origin = np.array([round(cx - side / 2), round(cy - side / 2), 0.0])  # the crop's top-left in the image
        return raw * np.array([scale, scale, scale]) + origin, 1.0 / (1.0 + math.exp(-logit))

    def eye_aspect_ratio(self, image: np.ndarray, points: np.ndarray) -> float | None:
        """Mean EAR of both eyes from the iris model's eyelid contours, or None without that model."""
        if self._eyes is None:
            return None
        with self._lock:
            right = self._eyes.contour(image, points[RIGHT_EYE[0]], points[RIGHT_EYE[3]], mirrored=False)
            left = self._eyes.contour(image, points[LEFT_EYE[3]], points[LEFT_EYE[0]], mirrored=True)
        return (contour_aspect_ratio(right) + contour_aspect_ratio(left)) / 2

    def attention(self, image: np.ndarray, box: Box) -> AttentionSignals:
        points, _score = self.landmarks(image, box)
        return attention_from_landmarks(points, self.eye_aspect_ratio(image, points))


class BlinkCounter:
    """Counts blinks in an eye-aspect-ratio series: a closure (below `closed`) that reopens within `max_closed_s`."""

    def __init__(self, closed: float = EAR_CLOSED, reopened: float = EAR_CLOSED + 0.03, max_closed_s: float = 0.5,
                 window_s: float = 60.0) -> None:
        self.closed, self.reopened, self.max_closed_s, self.window_s = closed, reopened, max_closed_s, window_s
        self._closed_since: float | None = None
        self.blinks: deque[float] = deque()
        self.total = 0

    def update(self, t: float, ear: float) -> bool:
        """Feed one sample (seconds, EAR); True when it completes a blink."""
        blinked = False
        if ear < self.closed and self._closed_since is None:
            self._closed_since = t
        elif ear >= self.reopened and self._closed_since is not None:
            blinked = t - self._closed_since <= self.max_closed_s
            self._closed_since = None
            if blinked:
                self.blinks.append(t)
                self.total += 1
        while self.blinks and t - self.blinks[0] > self.window_s:
            self.blinks.popleft()
        return blinked

    def per_minute(self) -> float:
        """Blinks in the last window, scaled to a minute."""
        return len(self.blinks) * 60.0 / self.window_s
