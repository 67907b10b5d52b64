import cv2
import numpy as np

from benchmarks.detectors import follow_table, non_faces
from tests.conftest import ASTRONAUT_FACE


def test_non_faces_are_gray_patches_from_scikit_image() -> None:
    patches = non_faces()
    assert len(patches) == 400 and all(p.ndim == 2 and p.dtype == np.uint8 and min(p.shape) >= 25 for p in patches)


def test_the_follow_table_follows_a_real_face_and_counts_false_follows(astronaut_bgr: np.ndarray) -> None:
    b = ASTRONAUT_FACE
    face = cv2.resize(cv2.cvtColor(astronaut_bgr[b.y : b.y + b.h, b.x : b.x + b.w], cv2.COLOR_BGR2GRAY), (48, 48))
    result, table = follow_table(np.stack([face, np.zeros_like(face)]), (144,), ((28, 2), (28, 1000)))
    rows = result["follow"]
    assert isinstance(rows, dict)
    assert rows["144/28/2"]["cases"] == 1  # the blank tile holds no face: the full scan finds none, nothing to follow
    assert rows["144/28/2"]["recall"] == 1.0 and rows["144/28/2"]["ms"] > 0
    assert rows["144/28/1000"]["recall"] == 0.0  # a region check asking for 1,000 neighbours never finds a face
    assert rows["144/28/2"]["non_faces"] == 400 and rows["144/28/2"]["false_follows"] <= 2
    assert "neighbours" in table


def test_the_size_table_finds_a_large_face_but_not_a_tiny_one() -> None:
    from benchmarks.detectors import SIZE_SWEEP, size_table, webcam_frame

    frame, box = webcam_frame(120)
    assert frame.shape == (480, 640, 3) and box.w == 120
    rows, table = size_table(["haar", "blazeface"])
    for name in ("haar", "blazeface"):
        found = rows[name]["found"]  # type: ignore[index]
        assert 120 in found["240"] and 160 in found["240"] and SIZE_SWEEP[0] not in found["240"]
        assert rows[name]["non_faces"] == 400 and rows[name]["false_finds"] <= 4  # type: ignore[index]
    assert "false finds" in table


def test_the_classify_table_reads_the_crops_each_detector_yields(astronaut_bgr: np.ndarray) -> None:
    from benchmarks.detectors import classify_table

    b = ASTRONAUT_FACE
    face = cv2.resize(cv2.cvtColor(astronaut_bgr[b.y : b.y + b.h, b.x : b.x + b.w], cv2.COLOR_BGR2GRAY), (48, 48))
    rows, table = classify_table(["haar"], np.stack([face, np.zeros_like(face)]), np.array([3, 3]), 0.3)
    assert rows["given box"]["found"] == 2 and rows["haar"]["found"] == 1  # type: ignore[index]
    assert rows["haar"]["accuracy"] == rows["haar"]["accuracy_on_found"] / 2  # type: ignore[index]
    assert "on found" in table
