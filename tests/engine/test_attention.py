"""Attention signals on real faces: the astronaut, mirrored, rotated, and with her eyes edited shut."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from benchmarks.faces import close_eyes
from engine.attention import BlinkCounter, FaceMesh, head_pose
from engine.detectors import HaarDetector
from engine.types import Box
from tests.conftest import REPO


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(REPO / "models" / "facemesh" / "face_landmark.tflite")


def largest_face(image: np.ndarray) -> Box:
    return max(HaarDetector().detect(image), key=lambda f: f.box.area).box


def test_the_astronaut_looks_at_the_camera_with_open_eyes(mesh: FaceMesh, astronaut_bgr: np.ndarray) -> None:
    state = mesh.attention(astronaut_bgr, largest_face(astronaut_bgr))
    assert state.eyes_open and abs(state.yaw) <= 20 and not state.looking_away


@pytest.mark.parametrize("transform", [
    lambda im: cv2.flip(im, 1),
    lambda im: cv2.warpAffine(im, cv2.getRotationMatrix2D((256, 256), 15, 1.0), (512, 512)),
])
def test_mirrored_and_rotated_astronaut(mesh: FaceMesh, astronaut_bgr: np.ndarray, transform) -> None:  # type: ignore[no-untyped-def]
    image = transform(astronaut_bgr)
    state = mesh.attention(image, largest_face(image))
    assert state.eyes_open and abs(state.yaw) <= 20 and not state.looking_away


def test_eyes_edited_shut_are_detected_as_closed(mesh: FaceMesh, astronaut_bgr: np.ndarray) -> None:
    box = largest_face(astronaut_bgr)
    open_state = mesh.attention(astronaut_bgr, box)
    closed_state = mesh.attention(close_eyes(astronaut_bgr, box, mesh), box)
    assert open_state.eyes_open and not closed_state.eyes_open
    assert closed_state.ear < 0.6 * open_state.ear


@pytest.mark.parametrize("turn", [-40.0, -15.0, 15.0, 40.0])
def test_head_pose_follows_a_rotated_mesh(mesh: FaceMesh, astronaut_bgr: np.ndarray, turn: float) -> None:
    points, _ = mesh.landmarks(astronaut_bgr, largest_face(astronaut_bgr))
    base_yaw, _ = head_pose(points)
    a = math.radians(turn)  # rotate the 3-D landmarks about the vertical axis through their centre
    rotation = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    centre = points.mean(axis=0)
    yaw, _pitch = head_pose((points - centre) @ rotation.T + centre)
    assert yaw - base_yaw == pytest.approx(-turn, abs=3.0)


def series(pattern: list[tuple[float, float]], fps: float = 30.0) -> list[tuple[float, float]]:
    """(seconds, EAR) samples from (duration, level) segments."""
    out, t = [], 0.0
    for duration, level in pattern:
        for _ in range(round(duration * fps)):
            out.append((t, level))
            t += 1 / fps
    return out


def test_blinks_are_counted_in_recorded_ear_series() -> None:
    counter = BlinkCounter(window_s=60)
    blink = [(2.0, 0.32), (0.15, 0.08)]  # two seconds open, a 150 ms closure
    samples = series(blink * 10 + [(2.0, 0.32)])
    assert sum(counter.update(t, ear) for t, ear in samples) == 10
    assert counter.total == 10 and counter.per_minute() == 10


def test_a_long_closure_is_not_a_blink_and_noise_is_ignored() -> None:
    counter = BlinkCounter()
    samples = series([(1.0, 0.31), (2.0, 0.07), (1.0, 0.31), (1.0, 0.215), (1.0, 0.30)])  # eyes shut 2 s; a dip
    assert sum(counter.update(t, ear) for t, ear in samples) == 0


def test_blink_rate_forgets_old_blinks() -> None:
    counter = BlinkCounter(window_s=10)
    for t, ear in series([(1.0, 0.3), (0.1, 0.05), (20.0, 0.3)]):
        counter.update(t, ear)
    assert counter.total == 1 and counter.per_minute() == 0
