"""Recordings of a video-call lesson made from real face images, for the recorded-lesson benchmark and its tests.

A gallery is a grid of participant tiles, as a video-call app records it (H.264, yuv420p). Each tile holds one real
face from an installed package (scikit-image's astronaut, matplotlib's Grace Hopper, then faces of scikit-image's
LFW subset), which stays put, sways a little, blinks now and then and sometimes turns aside far enough that a
frontal detector loses it for a moment. `cuts` replace the gallery by a shared slide (no faces) for a while, and
`shuffle_after` reorders the tiles from that time on, as video-call apps do when someone speaks.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import astronaut, write_h264

BACKGROUNDS = ((70, 80, 95), (95, 90, 70), (60, 75, 60), (85, 70, 85), (100, 100, 100), (65, 65, 80),
               (80, 95, 95), (90, 80, 70), (75, 75, 75))


@dataclass(frozen=True)
class GallerySpec:
    """What to record: a rows x cols gallery of distinct faces for `seconds` at width x height, `fps`."""

    name: str
    rows: int
    cols: int
    seconds: float
    width: int = 1920
    height: int = 1080
    fps: int = 30
    cuts: tuple[tuple[float, float], ...] = ()  # (start, end) seconds showing a slide instead of the gallery
    shuffle_after: float | None = None  # from this second on, the faces sit in other tiles
    blink_every: float = 4.0  # seconds between a face's blinks (each 0.2 s)
    turn_every: float = 15.0  # seconds between a face's turns aside (each 1.2 s)

    @property
    def faces(self) -> int:
        return self.rows * self.cols

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)


def grace_hopper() -> np.ndarray:
    """matplotlib's sample photograph of Grace Hopper (a real frontal face) as BGR."""
    import matplotlib

    image = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    if image is None:
        raise RuntimeError("matplotlib's grace_hopper.jpg is missing")
    return image


def lfw_faces() -> list[np.ndarray]:
    """The 100 face crops (25 x 25, gray) of scikit-image's LFW subset, as BGR."""
    import skimage

    patches = np.load(Path(skimage.__file__).parent / "data" / "lfw_subset.npy")[:100]
    return [cv2.cvtColor((p * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR) for p in patches]


def real_faces(count: int) -> list[np.ndarray]:
    """`count` head images of different real people: two portraits cropped around the face, then LFW faces."""
    portraits = [astronaut()[20:300, 100:350], grace_hopper()[40:440, 90:440]]
    faces = portraits + lfw_faces()[::7]  # every seventh LFW face: different people
    if count > len(faces):
        raise ValueError(f"at most {len(faces)} different faces are available, not {count}")
    return faces[:count]


def _fit(face: np.ndarray, width: int, height: int, background: tuple[int, int, int]) -> np.ndarray:
    """The face scaled to 70 % of the tile's height, centred on a plain background."""
    scale = 0.7 * height / face.shape[0]
    resized = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    resized = resized[:, : min(resized.shape[1], width)]
    tile = np.empty((height, width, 3), np.uint8)
    tile[:] = background
    y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    tile[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
    return tile


def _turned(tile: np.ndarray) -> np.ndarray:
    """The tile with the head turned aside: its face half foreshortened in perspective."""
    h, w = tile.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = np.array([[0.25 * w, 0.1 * h], [0.85 * w, 0], [0.85 * w, h], [0.25 * w, 0.9 * h]], np.float32)
    warped = cv2.warpPerspective(tile, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped)


def _closed_eyes(tile: np.ndarray) -> np.ndarray:
    """The tile with the eyes painted shut (benchmarks.faces), or as is where no face or landmark model is found."""
    from benchmarks.faces import close_eyes
    from engine.attention import FaceMesh
    from engine.detectors import HaarDetector
    from settings import Settings

    path = Settings().facemesh_path
    faces = HaarDetector().detect(tile)
    if not faces or not path.exists():
        return tile
    return close_eyes(tile, max(faces, key=lambda f: f.box.area).box, FaceMesh(path))


@dataclass(frozen=True)
class _Tile:
    open: np.ndarray
    closed: np.ndarray
    turned: np.ndarray


class Gallery:
    """Renders the frames of a spec."""

    SWAY_PX = 3

    def __init__(self, spec: GallerySpec) -> None:
        self.spec = spec
        self.tile_w, self.tile_h = spec.width // spec.cols, spec.height // spec.rows
        pad = 2 * self.SWAY_PX
        self.tiles = []
        for i, face in enumerate(real_faces(spec.faces)):
            tile = _fit(face, self.tile_w + pad, self.tile_h, BACKGROUNDS[i % len(BACKGROUNDS)])
            self.tiles.append(_Tile(tile, _closed_eyes(tile), _turned(tile)))
        slide = np.full((spec.height, spec.width, 3), 235, np.uint8)
        for row in range(6):
            cv2.putText(slide, "Lesson slide: photosynthesis" if row == 0 else f"- point {row}",
                        (120, 180 + 140 * row), cv2.FONT_HERSHEY_SIMPLEX, 3.0 if row == 0 else 2.2, (40, 40, 40), 5)
        self.slide = slide
        self._frame = np.zeros((spec.height, spec.width, 3), np.uint8)

    def seat(self, face: int, t: float) -> int:
        """The tile index face `face` sits in at time t."""
        after = self.spec.shuffle_after
        return face if after is None or t < after else (face + 1) % self.spec.faces

    def frame(self, t: float) -> np.ndarray:
        spec = self.spec
        if any(start <= t < end for start, end in spec.cuts):
            return self.slide
        for face, tile in enumerate(self.tiles):
            phase = 1.7 * face
            view = tile.open
            if (t + phase) % spec.blink_every > spec.blink_every - 0.2:
                view = tile.closed
            if (t + 3 * phase) % spec.turn_every > spec.turn_every - 1.2:
                view = tile.turned
            sway = self.SWAY_PX + round(self.SWAY_PX * math.sin(2 * math.pi * t / 5.0 + phase))
            seat = self.seat(face, t)
            y0, x0 = (seat // spec.cols) * self.tile_h, (seat % spec.cols) * self.tile_w
            self._frame[y0 : y0 + self.tile_h, x0 : x0 + self.tile_w] = view[:, sway : sway + self.tile_w]
        return self._frame


def classroom(side: int) -> np.ndarray:
    """A 1080p camera picture of twelve real faces, `side` pixels each, in two rows of six."""
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    for i, face in enumerate(real_faces(12)):
        row, col = divmod(i, 6)
        tile = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        frame[200 + row * 400 : 200 + row * 400 + side, 100 + col * 300 : 100 + col * 300 + side] = (
            tile if tile.ndim == 3 else cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR))
    return frame


def write_gallery(path: Path, spec: GallerySpec, on_frame: Callable[[], object] = lambda: None) -> Path:
    """Record the gallery as H.264 (libx264, yuv420p) in an MP4 at `path`."""
    gallery = Gallery(spec)
    frames = (gallery.frame(index / spec.fps) for index in range(spec.frames))
    return write_h264(path, frames, fps=spec.fps, width=spec.width, height=spec.height, on_frame=on_frame)
