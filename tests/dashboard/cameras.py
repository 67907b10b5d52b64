"""A fake camera for tests of the WebRTC glue: an aiortc video track of numbered frames at a fixed interval."""
from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

import av
import numpy as np


def picture(number: int) -> av.VideoFrame:
    """A 16x16 frame whose pixels and pts carry `number` (the pixels modulo 256)."""
    frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), number % 256, np.uint8), format="bgr24")
    frame.pts, frame.time_base = number, Fraction(1, 90000)
    return frame


def counting_camera(interval: float) -> Any:
    """A track whose recv waits `interval` seconds and returns picture(1), picture(2), ...; `count` says how many."""
    from aiortc.mediastreams import MediaStreamTrack  # imported late, as the tests import aiortc

    class Camera(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        async def recv(self) -> av.VideoFrame:  # type: ignore[override]
            await asyncio.sleep(interval)
            self.count += 1
            return picture(self.count)

    return Camera()
