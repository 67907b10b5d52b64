"""Reading still images and videos from disk, with clear errors for anything that is not one."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m", ".wmv"})
MAX_WORK_SIDE = 1920  # larger images are analysed on a downscaled copy; boxes refer to that copy


class MediaError(ValueError):
    """The file is missing, unreadable, corrupt or too large; the message says which."""


def image_from_bytes(data: bytes, max_pixels: int, source: str = "upload") -> np.ndarray:
    """A BGR uint8 image from encoded bytes (any depth, gray or alpha), refused if larger than max_pixels."""
    if not data:
        raise MediaError(f"{source}: the file is empty")
    _check_header_size(data, max_pixels, source)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MediaError(f"{source}: not an image OpenCV can read (corrupt, or an unsupported format)")
    return normalise_image(image)


def _check_header_size(data: bytes, max_pixels: int, source: str) -> None:
    """Refuse decompression bombs by reading the size from the header, before decoding any pixel."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as header:
            width, height = header.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return  # let OpenCV try formats PIL does not know; it fails with its own clear message
    if width * height > max_pixels:
        raise MediaError(f"{source}: image is {width}x{height}, above the limit of {max_pixels:,} pixels")


def normalise_image(image: np.ndarray) -> np.ndarray:
    """Any decoded image as 8-bit BGR: gray expanded, alpha dropped, 16-bit scaled, huge ones downscaled."""
    if image.dtype == np.uint16:
        image = (image / 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        span = float(image.max() - image.min()) or 1.0
        image = ((image - image.min()) * (255.0 / span)).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    side = max(image.shape[:2])
    if side > MAX_WORK_SIDE:
        factor = MAX_WORK_SIDE / side
        image = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return image


def read_image(path: Path, max_pixels: int) -> np.ndarray:
    """A still image from disk as BGR uint8."""
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if not path.is_file():
        raise MediaError(f"{path}: not a file")
    return image_from_bytes(path.read_bytes(), max_pixels, str(path))


def looks_like_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video."""

    fps: float
    frames: int
    width: int
    height: int


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """An opened capture and its properties, or a MediaError if the file holds no readable video."""
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MediaError(f"{path}: not a video OpenCV can read (corrupt, or an unsupported codec)")
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    info = VideoInfo(fps if 0 < fps < 1000 else 25.0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
                     int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return capture, info


def iter_frames(capture: cv2.VideoCapture, info: VideoInfo) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds from the start, BGR frame) for every frame of an opened video."""
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok or frame is None:
            return
        yield index / info.fps, frame
        index += 1
