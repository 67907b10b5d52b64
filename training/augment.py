"""Training augmentation on whole batches in numpy: one affine warp per view that also resizes, then light photometry.

Flip, shift, rotation and zoom are folded into one matrix per face and applied with a single bilinear gather from the
48x48 source straight to the network's input size (and to a teacher's), so a batch costs a few vectorised numpy
operations whatever the input size, on any Keras backend.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random changes; each is drawn uniformly per face."""

    flip: bool = True
    translate: float = 0.1  # fraction of the face, each axis
    rotate_degrees: float = 18.0
    zoom: float = 0.1  # scale in [1 - zoom, 1 + zoom]
    brightness: float = 0.2  # added, in [0, 1] units
    contrast: float = 0.2  # factor in [1 - contrast, 1 + contrast] around each face's mean


@dataclass(frozen=True)
class Draw:
    """The random values for one batch, shared by every view of it (student and teacher see the same face)."""

    geometry: np.ndarray  # (n, 2, 3): source coordinates (about the centre) from centred output coordinates
    brightness: np.ndarray  # (n,)
    contrast: np.ndarray  # (n,)


def draw(n: int, rng: np.random.Generator, cfg: AugmentConfig, source_size: int) -> Draw:
    """Random geometry and photometry for `n` faces of `source_size` pixels."""
    angle = np.deg2rad(rng.uniform(-cfg.rotate_degrees, cfg.rotate_degrees, n))
    scale = rng.uniform(1 - cfg.zoom, 1 + cfg.zoom, n)
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0) if cfg.flip else np.ones(n)
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    geometry = np.empty((n, 2, 3))
    geometry[:, 0, 0], geometry[:, 0, 1] = cos * flip, -sin
    geometry[:, 1, 0], geometry[:, 1, 1] = sin * flip, cos
    geometry[:, :, 2] = rng.uniform(-cfg.translate, cfg.translate, (n, 2)) * source_size
    return Draw(geometry, rng.uniform(-cfg.brightness, cfg.brightness, n),
                rng.uniform(1 - cfg.contrast, 1 + cfg.contrast, n))


def identity(n: int) -> Draw:
    """No change: `render` with it is a plain bilinear resize."""
    geometry = np.zeros((n, 2, 3))
    geometry[:, 0, 0] = geometry[:, 1, 1] = 1.0
    return Draw(geometry, np.zeros(n), np.ones(n))


def warp(images: np.ndarray, geometry: np.ndarray, size: int) -> np.ndarray:
    """uint8 faces (n, s, s) warped and resized to float32 (n, size, size) in [0, 1]; edges repeat outward."""
    n, source = images.shape[0], images.shape[1]
    centre = (source - 1) / 2.0
    # Output pixel centres in source units about the centre, as a resize maps them (half-pixel aligned).
    grid = (np.arange(size, dtype=np.float32) + 0.5) * (source / size) - 0.5 - centre
    g = geometry.astype(np.float32)
    xs = g[:, 0, 0, None, None] * grid[None, None, :] + g[:, 0, 1, None, None] * grid[None, :, None] + g[:, 0, 2, None, None]
    ys = g[:, 1, 0, None, None] * grid[None, None, :] + g[:, 1, 1, None, None] * grid[None, :, None] + g[:, 1, 2, None, None]
    xs = np.clip(xs + centre, 0, source - 1)
    ys = np.clip(ys + centre, 0, source - 1)
    x0 = np.minimum(xs.astype(np.int32), source - 2)
    y0 = np.minimum(ys.astype(np.int32), source - 2)
    fx, fy = xs - x0.astype(np.float32), ys - y0.astype(np.float32)
    flat = images.reshape(n, -1).astype(np.float32)
    base = (y0 * source + x0).reshape(n, -1)
    rows = np.arange(n)[:, None]

    def at(offset: int) -> np.ndarray:
        return flat[rows, base + offset].reshape(n, size, size)

    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(source) * (1 - fx) + at(source + 1) * fx
    out = top * (1 - fy) + bottom * fy
    out *= 1.0 / 255.0
    return out


def photometry(faces: np.ndarray, d: Draw) -> np.ndarray:
    """Brightness then contrast (about each face's mean), clipped to [0, 1], in place."""
    faces += d.brightness[:, None, None].astype(np.float32)
    mean = faces.mean(axis=(1, 2), keepdims=True)
    faces -= mean
    faces *= d.contrast[:, None, None].astype(np.float32)
    faces += mean
    np.clip(faces, 0.0, 1.0, out=faces)
    return faces


def render(images: np.ndarray, d: Draw, size: int) -> np.ndarray:
    """One view of a batch at `size`: (n, size, size, 1) float32, the layout the models take."""
    return photometry(warp(images, d.geometry, size), d)[..., None]
