import numpy as np
import pytest

from engine.preprocess import crop_face, preprocess_faces, to_gray
from engine.types import Box


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1), (20, 30, 3), (20, 30, 4)])
def test_to_gray_accepts_common_layouts(shape: tuple[int, ...]) -> None:
    assert to_gray(np.zeros(shape, np.uint8)).shape == (20, 30)


def test_to_gray_rejects_odd_channels() -> None:
    with pytest.raises(ValueError):
        to_gray(np.zeros((4, 4, 2), np.uint8))


def test_crop_is_square_with_margin() -> None:
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    crop = crop_face(gray, Box(40, 40, 20, 10), margin=0.1)
    assert crop.shape == (24, 24)


def test_crop_at_the_edge_is_padded_not_shrunk() -> None:
    gray = np.full((50, 50), 7, np.uint8)
    crop = crop_face(gray, Box(-5, -5, 20, 20), margin=0.0)
    assert crop.shape == (20, 20) and (crop == 7).all()


def test_preprocess_shape_range_and_dtype() -> None:
    crops = [np.full((90, 90), 255, np.uint8), np.zeros((30, 30, 3), np.uint8)]
    batch = preprocess_faces(crops, 48)
    assert batch.shape == (2, 48, 48, 1) and batch.dtype == np.float32
    assert batch[0].min() == pytest.approx(1.0) and batch[1].max() == 0.0


def test_preprocess_keeps_an_exact_size_image_unchanged() -> None:
    image = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    np.testing.assert_allclose(preprocess_faces([image], 48)[0, :, :, 0], image / 255.0, atol=1e-6)


def test_unknown_preprocessing_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown preprocessing"):
        preprocess_faces([np.zeros((4, 4), np.uint8)], 4, "nope")
