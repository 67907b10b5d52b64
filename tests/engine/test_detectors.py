import numpy as np
import pytest

from engine.detectors import HaarDetector, detect_scaled, make_detector
from engine.types import Box, Face
from tests.conftest import ASTRONAUT_FACE


def best_iou(faces: list[Face], box: Box) -> float:
    return max((f.box.iou(box) for f in faces), default=0.0)


def test_haar_finds_the_astronaut(astronaut_bgr: np.ndarray) -> None:
    assert best_iou(HaarDetector().detect(astronaut_bgr), ASTRONAUT_FACE) > 0.6


def test_mtcnn_finds_the_astronaut(astronaut_bgr: np.ndarray) -> None:
    faces = make_detector("mtcnn").detect(astronaut_bgr)
    assert best_iou(faces, ASTRONAUT_FACE) > 0.5


def test_haar_finds_nothing_in_a_blank_frame() -> None:
    assert HaarDetector().detect(np.zeros((240, 320, 3), np.uint8)) == []


def test_detect_scaled_maps_boxes_back_to_the_full_frame(astronaut_bgr: np.ndarray) -> None:
    faces = detect_scaled(HaarDetector(), astronaut_bgr, max_width=256)  # detected at half size
    assert best_iou(faces, ASTRONAUT_FACE) > 0.5


def test_unknown_detector_name() -> None:
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo")
