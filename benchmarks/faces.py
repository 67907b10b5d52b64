"""A realistic closed-eye edit of a face for tests and benchmarks: eyelids painted from the surrounding skin, with a lash line."""
from __future__ import annotations

import cv2
import numpy as np

from engine.attention import LEFT_EYE_CONTOUR, RIGHT_EYE_CONTOUR, FaceMesh
from engine.types import Box


def close_eyes(image: np.ndarray, box: Box, mesh: FaceMesh) -> np.ndarray:
    points, _ = mesh.landmarks(image, box)
    out = image.copy()
    for contour in (RIGHT_EYE_CONTOUR, LEFT_EYE_CONTOUR):
        eye = points[list(contour), :2].astype(np.int32)
        x, y, w, h = cv2.boundingRect(eye)
        lid = cv2.convexHull(eye)
        skin = np.median(image[y - h - 4 : y - 2, x : x + w].reshape(-1, 3), axis=0)  # the lid above the eye
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, lid, 255)
        mask = np.asarray(cv2.dilate(mask, np.ones((5, 5), np.uint8)))
        out[mask > 0] = skin.astype(np.uint8)
        lash = eye[np.argsort(eye[:, 0])]
        lower = lash[lash[:, 1] >= np.median(lash[:, 1])] if len(lash) > 2 else lash
        cv2.polylines(out, [lower[np.argsort(lower[:, 0])].reshape(-1, 1, 2)], False, (40, 30, 30), 2, cv2.LINE_AA)
        region = (slice(max(y - h, 0), y + 2 * h), slice(max(x - 4, 0), x + w + 4))
        out[region] = cv2.GaussianBlur(out[region], (5, 5), 0)
    return out
