import numpy as np

from engine.preprocess import preprocess_faces
from training.augment import AugmentConfig, draw, identity, render, warp


def faces(n: int = 4, size: int = 48) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, size, size), dtype=np.uint8)


def test_no_change_is_the_inference_resize_at_every_size() -> None:
    batch = faces()
    for size in (48, 64, 75, 139):
        np.testing.assert_allclose(render(batch, identity(len(batch)), size), preprocess_faces(batch, size), atol=1 / 255)


def test_a_flip_mirrors_the_face() -> None:
    batch = faces(1)
    d = identity(1)
    d.geometry[0, 0, 0] = -1.0
    np.testing.assert_allclose(warp(batch, d.geometry, 48)[0], batch[0, :, ::-1] / 255.0, atol=1e-6)


def test_a_shift_moves_the_face_and_repeats_the_edge() -> None:
    batch = faces(1)
    d = identity(1)
    d.geometry[0, 0, 2] = 5.0  # read 5 px further right: the face moves left
    out = warp(batch, d.geometry, 48)[0] * 255
    np.testing.assert_allclose(out[:, :43], batch[0, :, 5:], atol=1e-3)
    np.testing.assert_allclose(out[:, 43:], np.repeat(batch[0, :, 47:], 5, axis=1), atol=1e-3)


def test_views_of_one_draw_agree_and_draws_differ() -> None:
    batch = faces(8)
    cfg = AugmentConfig()
    d = draw(8, np.random.default_rng(1), cfg, 48)
    small, large = render(batch, d, 48), render(batch, d, 96)
    assert small.shape == (8, 48, 48, 1) and large.shape == (8, 96, 96, 1) and large.dtype == np.float32
    assert 0.0 <= large.min() and large.max() <= 1.0
    # the large view, brought down to 48 px, is the small view (same geometry and photometry)
    down = large[:, :, :, 0].reshape(8, 48, 2, 48, 2).mean(axis=(2, 4))
    assert np.abs(down - small[..., 0]).mean() < 0.03
    other = render(batch, draw(8, np.random.default_rng(2), cfg, 48), 48)
    assert np.abs(other - small).mean() > 0.05
