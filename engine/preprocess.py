"""The one preprocessing function shared by inference and training, so the two cannot drift."""
from __future__ import annotations

import cv2
import numpy as np

from engine.types import Box

# Preprocessing ids a model card may name. Each maps face crops to float32 tensors.
#   gray-unit-v1: grayscale, resized with INTER_AREA to the model's input, scaled to [0, 1].
PREPROCESSING_IDS: frozenset[str] = frozenset({"gray-unit-v1"})
DEFAULT_MARGIN = 0.1  # FER2013 crops include a little forehead and chin around a detector's tight box


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any uint8 image (gray, BGR or BGRA) as a 2-D grayscale array."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"unsupported image shape {image.shape}")


def crop_face(gray: np.ndarray, box: Box, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """The square crop around `box`, enlarged by `margin` per side and padded at the frame's edges."""
    side = int(round(max(box.w, box.h) * (1 + 2 * margin)))
    cx, cy = box.center
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = gray.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    return gray[y0 : y0 + side, x0 : x0 + side]


def preprocess_faces(crops: list[np.ndarray] | np.ndarray, size: int, preprocessing: str = "gray-unit-v1") -> np.ndarray:
    """Grayscale face crops (uint8, any size) as a float32 batch of shape (n, size, size, 1)."""
    if preprocessing not in PREPROCESSING_IDS:
        raise ValueError(f"unknown preprocessing id {preprocessing!r}; known: {sorted(PREPROCESSING_IDS)}")
    out = np.empty((len(crops), size, size, 1), dtype=np.float32)
    for i, crop in enumerate(crops):
        gray = to_gray(np.asarray(crop))
        if gray.shape != (size, size):
            interp = cv2.INTER_AREA if gray.shape[0] > size else cv2.INTER_LINEAR
            gray = cv2.resize(gray, (size, size), interpolation=interp)
        out[i, :, :, 0] = gray
    out *= 1.0 / 255.0
    return out
