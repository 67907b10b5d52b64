"""Real faces edited the way a webcam sees a student who is not looking at the screen, for tests and benchmarks.

`close_eyes` paints the eyelids shut from the surrounding skin, with a lash line. `turn_head` re-renders a real
face with its head turned: FaceMesh's 3-D landmarks of the photograph are rotated about a pivot inside the head
and each triangle of the face is warped to its new place, farthest first, so the nose and brows cover what they
would; a ring of anchors around the face keeps the hair, neck and background in one piece. Its `lids` lower the
upper eyelids towards the lower ones, as they follow a gaze down to a desk or a phone.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from engine.attention import LEFT_EYE_CONTOUR, RIGHT_EYE_CONTOUR, FaceMesh
from engine.types import Box

# upper-lid landmark -> the lower-lid landmark below it, both eyes (FaceMesh indices)
UPPER_TO_LOWER = {246: 7, 161: 163, 160: 144, 159: 145, 158: 153, 157: 154, 173: 155,
                  398: 382, 384: 381, 385: 380, 386: 374, 387: 373, 388: 390, 466: 249}
# each eye's corners and its upper-lid landmarks from one corner to the other
UPPER_LIDS = (((33, 133), (246, 161, 160, 159, 158, 157, 173)), ((362, 263), (398, 384, 385, 386, 387, 388, 466)))
PIVOT_DEPTH = 0.6  # the pivot lies this many face widths behind the face's mean depth (about the neck's axis)
RING_SCALE = 1.6  # the anchors sit on the face's outline scaled by this about its centre


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


def lower_lids(image: np.ndarray, points: np.ndarray, amount: float) -> np.ndarray:
    """`image` with both upper eyelids lowered by `amount` (0 as photographed, 1 shut) of the eye's opening: lid skin
    painted from above the eye down to the new lid edge, with its lash line (`points`: the face's FaceMesh landmarks)."""
    out = image.copy()
    if amount <= 0:
        return out
    for (corner_a, corner_b), eye in UPPER_LIDS:
        upper = points[list(eye), :2]
        lower = points[[UPPER_TO_LOWER[i] for i in eye], :2]
        opening = float(np.mean(lower[:, 1] - upper[:, 1]))
        edge = upper + amount * (lower - upper)
        margin = upper - [0, max(0.2 * opening, 1.0)]  # FaceMesh's lid points sit a little inside the lid's margin
        x, y, w, h = cv2.boundingRect(np.vstack([margin, lower]).astype(np.float32))
        skin = np.median(image[max(y - h - 2, 0) : max(y - 2, 1), x : x + w].reshape(-1, 3), axis=0)
        lid = np.vstack([points[[corner_a], :2], margin, points[[corner_b], :2], edge[::-1]])
        cv2.fillPoly(out, [np.round(lid).astype(np.int32)], skin.astype(np.uint8).tolist(), cv2.LINE_AA)
        cv2.polylines(out, [np.round(edge).astype(np.int32).reshape(-1, 1, 2)], False, (35, 40, 55), 1, cv2.LINE_AA)
        region = (slice(max(y - h, 0), y + 2 * h), slice(max(x - 4, 0), x + w + 4))
        out[region] = cv2.GaussianBlur(out[region], (3, 3), 0)
    return out


def rotation(pitch: float, yaw: float) -> np.ndarray:
    """The 3x3 rotation in image axes (x right, y down, z away from the camera) that tips a face `pitch` degrees
    (negative: chin down) and then turns it `yaw` degrees (positive: towards the image's right)."""
    p, y = math.radians(pitch), math.radians(yaw)
    tip = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    turn = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    return turn @ tip


def turn_head(image: np.ndarray, points: np.ndarray, *, pitch: float = 0.0, yaw: float = 0.0,
              lids: float = 0.0) -> np.ndarray:
    """`image` with the face whose FaceMesh landmarks are `points` (468 x 3, image pixels) turned by `pitch` and
    `yaw` degrees, its upper lids lowered by `lids` (0 open as photographed, 1 shut) of the eye's opening."""
    h, w = image.shape[:2]
    centre = points[:, :2].mean(axis=0)
    outline = points[cv2.convexHull(points[:, :2].astype(np.float32), returnPoints=False).ravel(), :2]
    anchors = np.vstack([centre + (outline - centre) * RING_SCALE,
                         [[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]]])
    width = float(np.ptp(points[:, 0]))
    pivot = np.array([centre[0], centre[1], points[:, 2].mean() + PIVOT_DEPTH * width])
    image = lower_lids(image, points, lids)
    moved = (points - pivot) @ rotation(pitch, yaw).T + pivot
    source = np.vstack([points[:, :2], anchors])
    target = np.vstack([moved[:, :2], anchors])
    depth = np.concatenate([moved[:, 2], np.full(len(anchors), moved[:, 2].max() + width)])
    from scipy.spatial import Delaunay

    triangles = Delaunay(source).simplices
    triangles = triangles[np.argsort(-depth[triangles].mean(axis=1))]  # farthest first: near parts paint over
    out = image.copy()
    for triangle in triangles:
        src, dst = source[triangle].astype(np.float32), target[triangle].astype(np.float32)
        x, y, bw, bh = cv2.boundingRect(dst)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)
        if x1 <= x0 or y1 <= y0:
            continue
        local = dst - np.array([x, y], np.float32)  # the triangle in its bounding box
        warp = cv2.getAffineTransform(src, local)
        patch = cv2.warpAffine(image, warp, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillConvexPoly(mask, np.round(local).astype(np.int32), 255)
        inside = mask[y0 - y : y1 - y, x0 - x : x1 - x] > 0
        out[y0:y1, x0:x1][inside] = patch[y0 - y : y1 - y, x0 - x : x1 - x][inside]
    return out
