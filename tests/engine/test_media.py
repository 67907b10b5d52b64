from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.media import MAX_WORK_SIDE, MediaError, image_from_bytes, read_image


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("image", [
    np.zeros((30, 40), np.uint8),  # grayscale
    np.zeros((30, 40, 4), np.uint8),  # alpha
    np.zeros((30, 40, 3), np.uint16),  # 16-bit
])
def test_any_depth_and_channels_become_bgr8(image: np.ndarray) -> None:
    out = image_from_bytes(encode(image), 10_000)
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8


def test_corrupt_and_empty_data_are_refused() -> None:
    with pytest.raises(MediaError, match="not an image"):
        image_from_bytes(b"this is not an image at all", 10_000)
    with pytest.raises(MediaError, match="empty"):
        image_from_bytes(b"", 10_000)
    truncated = encode(np.zeros((64, 64, 3), np.uint8), ".jpg")[:40]
    with pytest.raises(MediaError):
        image_from_bytes(truncated, 10_000)


def test_too_many_pixels_is_refused_before_decoding() -> None:
    with pytest.raises(MediaError, match="above the limit"):
        image_from_bytes(encode(np.zeros((100, 100, 3), np.uint8)), 5_000)


def test_large_images_are_downscaled() -> None:
    out = image_from_bytes(encode(np.zeros((100, 4000, 3), np.uint8)), 10**9)
    assert max(out.shape[:2]) == MAX_WORK_SIDE


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        read_image(tmp_path / "nope.png", 10**6)
