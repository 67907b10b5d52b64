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
