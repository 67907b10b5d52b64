"""Helpers shared by the benchmarks: timing, real face images, JSON/table output."""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

DEFAULT_DATA = Path("../shared/data/fer2013.csv.gz")


def time_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median wall-clock milliseconds of `fn` over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def astronaut() -> np.ndarray:
    """scikit-image's astronaut (a real frontal face near x=177, y=66, 95x95) as BGR."""
    import skimage

    image = cv2.imread(str(Path(skimage.__file__).parent / "data" / "astronaut.png"))
    if image is None:
        raise RuntimeError("scikit-image's astronaut.png is missing")
    return image


def frame_of(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` letterboxed into a width x height frame, as a webcam would deliver it."""
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, np.uint8)
    y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    frame[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
    return frame


def write_h264(path: Path, frames: Iterable[np.ndarray], *, fps: int, width: int, height: int,
               on_frame: Callable[[], object] = lambda: None) -> Path:
    """Record BGR frames as H.264 (libx264, yuv420p, as cameras and video-call apps do) in an MP4 at `path`."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
            on_frame()
        for packet in stream.encode():
            container.mux(packet)
    return path


def emit(result: dict[str, object], table: str, as_json: bool) -> None:
    """Print the table, and with --json one JSON object on the last line."""
    print(table)
    if as_json:
        print(json.dumps(result))
