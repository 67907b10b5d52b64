"""Reading still images from disk, with clear errors for anything that is not one (videos: engine.video)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m", ".wmv"})
MAX_SIDE = 65_536  # longer sides are refused from the header (libpng and OpenCV stop far beyond, noisily)
MAX_WORK_SIDE = 1920  # larger images are analysed on a downscaled copy; boxes refer to that copy


class MediaError(ValueError):
    """The file is missing, unreadable, corrupt or too large; the message says which."""


def image_from_bytes(data: bytes, max_pixels: int, source: str = "upload") -> np.ndarray:
    """A BGR uint8 image from encoded bytes (any depth, gray or alpha), refused if larger than max_pixels."""
    if not data:
        raise MediaError(f"{source}: the file is empty")
    _check_header_size(data, max_pixels, source)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # e.g. a header above OpenCV's own pixel limit
        raise MediaError(f"{source}: OpenCV refused the image ({str(exc).strip().splitlines()[-1]})") from None
    if image is None:
        raise MediaError(f"{source}: not an image OpenCV can read (corrupt, or an unsupported format)")
    return normalise_image(image)


def _check_header_size(data: bytes, max_pixels: int, source: str) -> None:
    """Refuse decompression bombs by reading the size from the header, before decoding any pixel. A file whose
    header Pillow cannot read is not decoded at all: OpenCV would decode it without any size check of ours."""
    import warnings
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # our own limit below decides; a damaged file is refused in one line
            warnings.simplefilter("ignore")  # (DecompressionBombWarning; Pillow 13 also warns of truncated TIFFs)
            with Image.open(BytesIO(data)) as header:
                width, height = header.size
    except Image.DecompressionBombError as exc:
        raise MediaError(f"{source}: image is far above the limit of {max_pixels:,} pixels ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise MediaError(f"{source}: not an image this app reads (PNG, JPEG, BMP, TIFF, WebP, GIF; corrupt, "
                         "or another format)") from None
    if max(width, height) > MAX_SIDE:
        raise MediaError(f"{source}: image is {width}x{height}, above the limit of {MAX_SIDE:,} pixels per side")
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return image_from_bytes(data, max_pixels, str(path))


def looks_like_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES
