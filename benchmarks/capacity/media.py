"""The simulated students' media: a real face as a looping VP8 clip, paced into aiortc's receiving path, through
streamlit-webrtc's processing track and back out through aiortc's encoder, on one shared event loop."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import cast

import aiortc  # noqa: F401  (before anything imports TensorFlow: pylibsrtp after TF segfaults)
import av
import numpy as np
from aiortc import RTCRtpCodecParameters, rtcrtpreceiver, rtcrtpsender
from aiortc.codecs.vpx import Vp8Decoder
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from streamlit_webrtc.models import CallbackAttachableProcessor
from streamlit_webrtc.process import AsyncVideoProcessTrack, VideoProcessTrack

from benchmarks.common import astronaut, frame_of

log = logging.getLogger(__name__)


VIDEO_CLOCK = 90_000  # RTP video clock rate, as aiortc uses


VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=VIDEO_CLOCK, payloadType=97)


CLIP_SECONDS = 8


def encoded_clip(width: int, height: int, fps: int) -> list[bytes]:
    """A looping VP8 bitstream (keyframe first) of the astronaut drifting like a student in a chair."""
    base = frame_of(astronaut(), width, height)
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt, codec.bit_rate = width, height, "yuv420p", 500_000
    codec.time_base = Fraction(1, fps)
    codec.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for i in range(CLIP_SECONDS * fps):
        frame = av.VideoFrame.from_ndarray(np.roll(base, int(6 * np.sin(i / 10) * width / 320), axis=1), format="bgr24")
        frame.pts = i
        packets += [bytes(p) for p in codec.encode(frame.reformat(format="yuv420p"))]
    packets += [bytes(p) for p in codec.encode(None)]
    return packets


def clip_kbps(packets: list[bytes], fps: int) -> float:
    """The encoded clip's bitrate: what each simulated stream receives (compare a real student's traffic)."""
    return round(sum(map(len, packets)) * 8 * fps / max(len(packets), 1) / 1000, 1)


@dataclass
class StreamLog:
    """What one simulated stream measured (monotonic seconds)."""

    callback_ms: list[tuple[float, float]] = field(default_factory=list)  # (end time, duration)
    analyses: list[tuple[float, int]] = field(default_factory=list)  # (analysed frame's time, track id)
    received: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)  # when each frame sent back was encoded
    latency_ms: list[tuple[float, float]] = field(default_factory=list)  # (sent time, decoded-to-encoded), webrtc only
    content_age_ms: list[tuple[float, float]] = field(default_factory=list)  # (sent time, age of the picture sent)
    errors: int = 0


def paced_frames(packets: list[bytes], fps: int, start: float, stop: threading.Event, log: StreamLog) -> Iterator[av.VideoFrame]:
    """Decode the looping clip with aiortc's Vp8Decoder, one packet per frame interval from `start` until `stop`,
    as a student's frames arrive; each decoded frame is logged as received."""
    decoder = Vp8Decoder()
    k = 0
    while not stop.is_set():
        delay = start + k / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        i = k % len(packets)  # the clip loops; it starts with a keyframe
        k += 1
        try:
            frames = decoder.decode(JitterFrame(packets[i], k * VIDEO_CLOCK // fps))
        except Exception:
            log.errors += 1
            continue
        for frame in frames:
            log.received.append(time.monotonic())
            yield cast(av.VideoFrame, frame)


def timed_call(callback, frame: av.VideoFrame, log: StreamLog) -> av.VideoFrame | None:  # type: ignore[no-untyped-def]
    """Run the frame callback and log how long it took; None (and an error counted) when it raised."""
    began = time.monotonic()
    try:
        out: av.VideoFrame = callback(frame)
    except Exception:
        log.errors += 1
        return None
    end = time.monotonic()
    log.callback_ms.append((end, (end - began) * 1000))
    return out


class ReceivedTrack(RemoteStreamTrack):
    """aiortc's track for a received video, which its decoder feeds on the event loop; logs each frame it hands on."""

    def __init__(self, log: StreamLog) -> None:
        super().__init__(kind="video")
        self._log = log

    async def recv(self) -> av.VideoFrame:  # type: ignore[override]
        frame = cast(av.VideoFrame, await super().recv())
        self._log.received.append(time.monotonic())
        return frame


class WebrtcStream:
    """One student's stream along the app's own frame path: on the shared event loop, the next encoded frame of the
    clip arrives at the stream's frame rate and goes into a decoder queue, decoded as aiortc's RTCRtpReceiver decodes
    (its decoder_worker on a thread of its own, or the app's shared decoder threads: dashboard.webrtc.decoder_pool) into
    aiortc's track for a received video; aiortc's MediaRelay and streamlit-webrtc's AsyncVideoProcessTrack run the
    app's frame callback (on the app's shared frame threads), as webrtc_streamer(async_processing=True) wires them; a
    sender task encodes every returned frame in the loop's executor, as aiortc's RTCRtpSender does. Left out: RTP
    packets, SRTP, ICE and each student's Streamlit session (benchmarks.browser_capacity compares with real
    students)."""

    def __init__(self, index: int, packets: list[bytes], fps: int, callback, stop: threading.Event,  # type: ignore[no-untyped-def]
                 loop: asyncio.AbstractEventLoop, relay: MediaRelay, async_processing: bool = True) -> None:
        self.index, self.packets, self.fps, self.callback, self.stop = index, packets, fps, callback, stop
        self.log = StreamLog()
        self.phase = 0.0
        self._loop, self._relay, self._async = loop, relay, async_processing
        self._arrived_at: dict[int, float] = {}  # pts -> when its encoded frame arrived, for the last ten seconds
        self._source_of: dict[int, int] = {}  # id(returned frame) -> pts of the frame it was made from
        self._decode_error = threading.Event()

    def start(self, t0: float) -> None:
        self._t0 = t0
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(10)

    def join(self) -> None:
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(self._feeder), 10), self._loop).result(15)
        self._decoder.join(10)  # the decoder hands the end of the stream to the track
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(30)
        self.log.errors += self._decode_error.is_set()

    async def _open(self) -> None:
        self._source = ReceivedTrack(self.log)
        # the decoder as RTCRtpReceiver.receive() starts it, the app's tuning included
        self._queue: queue.Queue[tuple[RTCRtpCodecParameters, JitterFrame] | None] = rtcrtpreceiver.queue.Queue()
        self._decoder = rtcrtpreceiver.threading.Thread(
            target=rtcrtpreceiver.decoder_worker, name="video-decoder",
            args=(asyncio.get_running_loop(), self._queue, self._source._queue, self._decode_error))
        self._decoder.start()
        processor = CallbackAttachableProcessor(self._timed, None, None)
        track_class = AsyncVideoProcessTrack if self._async else VideoProcessTrack  # the callback on the loop
        self._track = track_class(track=self._relay.subscribe(self._source), processor=processor)
        self._sender = asyncio.ensure_future(self._send(self._relay.subscribe(self._track)))
        self._feeder = asyncio.ensure_future(self._feed())

    async def _close(self) -> None:
        self._sender.cancel()
        self._track.stop()  # ends the processing thread

    async def _feed(self) -> None:
        """The clip's encoded frames, one per frame interval from the stream's start until `stop`, put in the decoder
        queue on the loop as aiortc's receiver puts each complete frame; then the end of the stream (None)."""
        start, k = self._t0 + self.phase, 0
        while not self.stop.is_set():
            delay = start + k / self.fps - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pts = k * VIDEO_CLOCK // self.fps
            self._arrived_at[pts] = time.monotonic()
            if len(self._arrived_at) > 10 * self.fps:  # keep the last ten seconds' frames
                self._arrived_at.pop(next(iter(self._arrived_at)))
            self._queue.put((VP8, JitterFrame(self.packets[k % len(self.packets)], pts)))  # the clip loops from a keyframe
            k += 1
        self._queue.put(None)

    async def _send(self, track: MediaStreamTrack) -> None:
        encoder, loop = rtcrtpsender.get_encoder(VP8), asyncio.get_running_loop()  # as aiortc's sender gets it
        try:
            while True:
                frame = cast(av.VideoFrame, await track.recv())
                pts = frame.pts  # read first: PyAV's encoder rescales a frame's pts in place
                source = self._source_of.get(id(frame))  # the last result may be sent again: keep its entry
                await loop.run_in_executor(None, partial(encoder.encode, frame))
                self._sent(pts, source)
        except MediaStreamError:
            return

    def _sent(self, pts: int | None, source: int | None) -> None:
        """How long the frame with this pts took from its arrival (encoded) to the encoding of the frame returned for
        it (the path's delay: decoding, the callback, encoding), and how old the picture under the overlay was when
        encoded: streamlit-webrtc's async track answers frame N with the newest finished result (made from frame N-1
        when the callback keeps up) relabelled with N's pts."""
        now = time.monotonic()
        self.log.sent.append(now)
        for times, frame_pts in ((self.log.latency_ms, pts), (self.log.content_age_ms, source)):
            arrived = self._arrived_at.get(frame_pts) if frame_pts is not None else None
            if arrived is not None:
                times.append((now, (now - arrived) * 1000))

    def _timed(self, frame: av.VideoFrame) -> av.VideoFrame:  # on streamlit-webrtc's processing thread (or the loop)
        pts = frame.pts
        out = timed_call(self.callback, frame, self.log)
        out = frame if out is None else out
        if pts is not None:
            self._source_of[id(out)] = pts
            if len(self._source_of) > 10 * self.fps:
                self._source_of.pop(next(iter(self._source_of)))
        return out


class EventLoopThread:
    """One asyncio loop on its own thread, shared by every stream, as streamlit-webrtc's server loop is. A probe
    wakes every 10 ms and records how late it woke (monotonic time, lag in ms): how long work waits on the loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.lag_ms: list[tuple[float, float]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="webrtc-loop")
        self._thread.start()
        self._probing: asyncio.Task[None] | None = None
        asyncio.run_coroutine_threadsafe(self._start_probe(), self.loop).result(5)

    async def _start_probe(self) -> None:
        self._probing = asyncio.ensure_future(self._probe())

    async def _stop_probe(self) -> None:
        if self._probing is not None:
            self._probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probing

    async def _probe(self, period: float = 0.01) -> None:
        while True:
            due = time.monotonic() + period
            await asyncio.sleep(period)
            now = time.monotonic()
            self.lag_ms.append((now, (now - due) * 1000))

    def p95_lag_ms(self, start: float, end: float) -> float:
        lags = [lag for t, lag in self.lag_ms if start <= t < end]
        return float(np.percentile(lags, 95)) if lags else 0.0

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop_probe(), self.loop).result(5)
        asyncio.run_coroutine_threadsafe(self.loop.shutdown_default_executor(), self.loop).result(10)  # encoder threads
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
