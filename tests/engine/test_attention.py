"""Attention signals on real faces: the astronaut, mirrored, rotated, and with her eyes edited shut."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from benchmarks.faces import close_eyes
from engine.attention import BlinkCounter, FaceMesh, attention_from_landmarks, head_pose
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


def pitched(points: np.ndarray, degrees: float) -> np.ndarray:
    """The 3-D landmarks rotated about the horizontal axis through their centre (negative: the head tips down)."""
    a = math.radians(degrees)
    rotation = np.array([[1, 0, 0], [0, math.cos(a), math.sin(a)], [0, -math.sin(a), math.cos(a)]])
    centre = points.mean(axis=0)
    return (points - centre) @ rotation.T + centre


def test_reading_below_the_camera_is_looking_down_not_eyes_closed(mesh: FaceMesh, astronaut_bgr: np.ndarray) -> None:
    """The astronaut's real landmarks tipped down 20 degrees, with the lids lowered as a downward gaze lowers them
    (EAR 0.15: the iris model's reading of her eyes with the upper lids drawn 60 % down is 0.14-0.19)."""
    points, _ = mesh.landmarks(astronaut_bgr, largest_face(astronaut_bgr))
    _yaw, base_pitch = head_pose(points)
    down = pitched(points, -20.0)
    assert head_pose(down)[1] == pytest.approx(base_pitch - 20.0, abs=3.0)
    reading = attention_from_landmarks(down, ear=0.15)
    assert reading.looking_down and reading.eyes_open and not reading.looking_away
    assert not attention_from_landmarks(down, ear=0.05).eyes_open  # shut is still shut
    facing = attention_from_landmarks(points, ear=0.15)  # the same lids, facing the screen: closed
    assert not facing.looking_down and not facing.eyes_open
    assert attention_from_landmarks(pitched(points, 40.0), ear=0.3).looking_away  # looking up is away


@pytest.mark.parametrize("photo", ["astronaut", "grace hopper"])
def test_real_faces_rendered_looking_down_with_lowered_lids_read_as_looking_down(mesh: FaceMesh, photo: str) -> None:
    """The photograph re-rendered with the head tipped 25 degrees down and the upper lids lowered 80 %: the whole
    chain (FaceMesh and the iris model's lids on the box a stream's tracker holds) reads the pitch and calls it
    looking down, eyes open, although the eyes' aspect ratio alone is that of closed eyes."""
    from benchmarks.common import astronaut
    from benchmarks.faces import turn_head
    from benchmarks.galleries import grace_hopper
    from engine.attention import EAR_CLOSED

    image = astronaut() if photo == "astronaut" else grace_hopper()
    box = largest_face(image)
    points, _ = mesh.landmarks(image, box)
    facing = mesh.attention(image, box)
    down = turn_head(image, points, pitch=-25, lids=0.8)
    reading = mesh.attention(down, box)
    assert reading.pitch == pytest.approx(facing.pitch - 25, abs=6)
    assert reading.looking_down and reading.eyes_open and not reading.looking_away
    assert reading.ear < EAR_CLOSED < facing.ear
    lids_only = mesh.attention(turn_head(image, points, lids=0.8), box)  # the same lids facing the screen: closed
    assert not lids_only.looking_down and not lids_only.eyes_open
