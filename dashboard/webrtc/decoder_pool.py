"""The same few shared threads decode every student's incoming video, instead of aiortc's decoder thread per student.

aiortc's RTCRtpReceiver starts a thread per received track: the event loop puts each complete encoded frame into the
receiver's queue, the thread decodes it and hands the picture back to the loop. With thirty students that is thirty
threads waking ten times a second to take their turn on Python's GIL (about a hundred context switches per second
each in `benchmarks.capacity`, README: Capacity).

`share_decoder_threads(n)` keeps that contract (every frame decoded in order with the stream's own decoder, a
decoding error logged and flagged as aiortc does, None ending the track, stop joining until the end is delivered)
but decodes the frames of all streams on the `n` threads of a `FramePool`, one stream at a time, streams served in
turn. It replaces the `threading` and `queue` names inside aiortc.rtcrtpreceiver with stand-ins that hand aiortc's
decoder_worker to the pool and let its queue say when a frame arrives; everything else there is the real module.
0 restores aiortc's own threads. Applies to receivers started afterwards, in the whole process.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import av

from dashboard.webrtc.frame_pool import FramePool, StreamSlot, shared_pool

log = logging.getLogger(__name__)


class NotifyingQueue(queue.Queue):  # type: ignore[type-arg]
    """A receiver's decoder queue that calls `on_put` after each put (set once the queue has a pooled decoder)."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.on_put: Callable[[], None] | None = None

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        if self.on_put is not None:
            self.on_put()


class PooledDecoder:
    """Stands in for aiortc's decoder thread: what `decoder_worker(loop, input_q, output_q, decode_error)` does, a
    frame at a time on the pool's threads. `start` and `join` are what RTCRtpReceiver calls on its thread."""

    def __init__(self, pool: FramePool, loop: asyncio.AbstractEventLoop, input_q: NotifyingQueue,
                 output_q: asyncio.Queue, decode_error: threading.Event, name: str = "decoder") -> None:  # type: ignore[type-arg]
        self.name, self._pool = name, pool
        self._loop, self._input, self._output, self._error = loop, input_q, output_q, decode_error
        self._codec_name: str | None = None
        self._decoder: Any = None
        self._ended = threading.Event()
        self._slot = StreamSlot(self._drain)

    def start(self) -> None:
        self._input.on_put = self._wake
        self._wake()  # frames queued before the start
        log.info("a received %s starts on the shared decoder threads", self.name.replace("-decoder", " track"))

    def join(self, timeout: float | None = None) -> None:
        """Wait until the end of the stream (the None aiortc puts in the queue) has been handed to the track."""
        self._ended.wait(timeout)

    def is_alive(self) -> bool:
        return not self._ended.is_set()

    def _wake(self) -> None:
        self._pool.offer(self._slot, True)  # "there is work": the pool thread that takes it drains the queue

    def _drain(self, _: object) -> None:
        while not self._ended.is_set():
            try:
                task = self._input.get_nowait()
            except queue.Empty:
                return
            if task is None:
                self._deliver(None)
                self._decoder = None
                self._ended.set()
                self._pool.stop(self._slot)
                return
            self._decode(*task)

    def _decode(self, codec: Any, encoded_frame: Any) -> None:
        """One encoded frame, as aiortc's decoder_worker decodes it."""
        if codec.name != self._codec_name:  # the first frame, or the stream switched codecs
            from aiortc.codecs import get_decoder

            self._decoder, self._codec_name = get_decoder(codec), codec.name
        try:
            frames = self._decoder.decode(encoded_frame)
        except av.FFmpegError as exc:  # aiortc keeps the decoder: a reset would fail every frame until a keyframe
            log.warning("RTCRtpReceiver(%s) failed to decode %s frame: %s", codec.mimeType.split("/")[0], codec.name, exc)
            self._error.set()
            return
        for frame in frames:
            self._deliver(frame)

    def _deliver(self, frame: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._output.put(frame), self._loop)


class _ThreadingForReceiver(ModuleType):
    """The `threading` name inside aiortc.rtcrtpreceiver: its decoder thread becomes a PooledDecoder."""

    def __init__(self, pool: FramePool, decoder_worker: Callable[..., None]) -> None:
        super().__init__("threading")
        self._pool, self._decoder_worker = pool, decoder_worker

    def Thread(self, group: None = None, target: Any = None, name: str | None = None, **kwargs: Any) -> Any:  # noqa: N802
        thread_args = kwargs.get("args", ())
        if target is self._decoder_worker and len(thread_args) == 4 and isinstance(thread_args[1], NotifyingQueue):
            loop, input_q, output_q, decode_error = thread_args
            return PooledDecoder(self._pool, loop, input_q, output_q, decode_error, name=name or "decoder")
        return threading.Thread(group, target, name, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


class _QueueForReceiver(ModuleType):
    """The `queue` name inside aiortc.rtcrtpreceiver: decoder queues say when a frame arrives."""

    Queue = NotifyingQueue

    def __init__(self) -> None:
        super().__init__("queue")

    def __getattr__(self, name: str) -> Any:
        return getattr(queue, name)


def share_decoder_threads(threads: int) -> None:
    """Decode the incoming video of receivers started from now on on `threads` shared threads; 0: aiortc's own
    thread per receiver."""
    from aiortc import rtcrtpreceiver

    if threads <= 0:
        rtcrtpreceiver.threading, rtcrtpreceiver.queue = threading, queue  # type: ignore[attr-defined]
        log.info("incoming video of new streams is decoded on a thread per stream (aiortc's own)")
        return
    pool = shared_pool(threads, name="decoder-pool")
    rtcrtpreceiver.threading = _ThreadingForReceiver(pool, rtcrtpreceiver.decoder_worker)  # type: ignore[attr-defined]
    rtcrtpreceiver.queue = _QueueForReceiver()  # type: ignore[attr-defined]
    log.info("incoming video of new streams is decoded on %d shared threads", threads)
