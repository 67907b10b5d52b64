import cv2
import numpy as np
import pytest

from engine.detectors import HaarDetector, detect_near, detect_scaled, make_detector, suppress_duplicates
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


def test_a_known_face_is_found_again_near_its_box(astronaut_bgr: np.ndarray) -> None:
    detector = HaarDetector()
    near = detect_near(detector, astronaut_bgr, ASTRONAUT_FACE)
    assert best_iou(near, ASTRONAUT_FACE) > 0.6  # found in a small scaled region, mapped back to the full frame
    assert detect_near(detector, astronaut_bgr, Box(400, 400, 95, 95)) == []  # the suit: no face there


def test_a_narrow_size_range_skips_faces_of_other_sizes(astronaut_bgr: np.ndarray) -> None:
    assert HaarDetector().detect(astronaut_bgr, (20, 40)) == []  # the face is ~95 px wide


def test_duplicates_from_overlapping_regions_are_merged() -> None:
    a, b, c = Face(Box(10, 10, 50, 50), 0.9), Face(Box(12, 11, 50, 50), 0.8), Face(Box(200, 10, 50, 50), 0.7)
    assert suppress_duplicates([b, a, c]) == [a, c]


def test_region_checks_ask_for_near_neighbors_and_full_scans_for_min_neighbors(astronaut_bgr: np.ndarray) -> None:
    strict_near, strict_scan = HaarDetector(near_neighbors=50), HaarDetector(min_neighbors=50)
    assert detect_near(strict_near, astronaut_bgr, ASTRONAUT_FACE) == []
    assert best_iou(strict_near.detect(astronaut_bgr), ASTRONAUT_FACE) > 0.6  # a full scan still uses min_neighbors
    assert strict_scan.detect(astronaut_bgr) == []
    assert best_iou(detect_near(strict_scan, astronaut_bgr, ASTRONAUT_FACE), ASTRONAUT_FACE) > 0.6


def test_blazeface_finds_the_astronaut_and_nothing_in_a_blank_frame(astronaut_bgr: np.ndarray) -> None:
    detector = make_detector("blazeface")
    (face,) = detector.detect(astronaut_bgr)
    assert face.box.iou(ASTRONAUT_FACE) > 0.6 and face.score > 0.6
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    assert detector.detect(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)) != []  # gray frames too
    head = astronaut_bgr[0:300, 100:400]  # the face at (77, 66), 95 px; frames wider or taller are letterboxed
    wide, tall = (cv2.copyMakeBorder(head, *sides, cv2.BORDER_CONSTANT) for sides in ((0, 0, 100, 200), (100, 200, 0, 0)))
    assert best_iou(detector.detect(wide), Box(177, 66, 95, 95)) > 0.6
    assert best_iou(detector.detect(tall), Box(77, 166, 95, 95)) > 0.6


def test_blazeface_follows_a_known_face_within_the_size_range(astronaut_bgr: np.ndarray) -> None:
    detector = make_detector("blazeface")
    assert best_iou(detect_near(detector, astronaut_bgr, ASTRONAUT_FACE), ASTRONAUT_FACE) > 0.6
    assert detect_near(detector, astronaut_bgr, Box(400, 400, 95, 95)) == []  # the suit: no face there
    assert detector.detect(astronaut_bgr, (20, 40)) == []  # the face is ~95 px wide


def test_blazeface_finds_a_head_tipped_down_over_a_desk_that_haar_loses(astronaut_bgr: np.ndarray) -> None:
    from pathlib import Path

    from benchmarks.faces import turn_head
    from engine.attention import FaceMesh

    mesh = FaceMesh(Path(__file__).resolve().parents[2] / "models" / "facemesh" / "face_landmark.tflite")
    points, _presence = mesh.landmarks(astronaut_bgr, ASTRONAUT_FACE)
    reading = turn_head(astronaut_bgr, points, pitch=-40)
    assert HaarDetector().detect(reading) == []
    (face,) = make_detector("blazeface").detect(reading)
    assert face.box.iou(ASTRONAUT_FACE) > 0.4


def test_photos_and_recordings_use_haar_when_the_streams_use_the_webcam_only_detector() -> None:
    from engine.detectors import BlazeFaceDetector, wide_frame_detector

    assert isinstance(make_detector("blazeface"), BlazeFaceDetector)
    assert isinstance(wide_frame_detector("blazeface"), HaarDetector)  # small faces in a wide frame
    assert isinstance(wide_frame_detector("haar"), HaarDetector)
