"""A few shared threads that run every student's frame callback, instead of a thread per student.

With webrtc_streamer(async_processing=True), streamlit-webrtc starts a thread for each stream: it takes the
stream's newest frame, runs the frame callback (through an asyncio loop of its own, for every frame) and leaves the
result for the track's next recv, which answers each incoming frame with the newest result. With twenty students
that is twenty threads taking turns on Python's GIL beside aiortc's decoder threads, its encoder pool and the event
loop; recording the scheduler's switches during `python -m benchmarks.capacity --streams 20` (perf, README: Capacity)
put almost all of them in threads waiting to take the GIL back.

`share_frame_threads(n)` keeps that contract (the newest frame only, the result picked up by the next recv, a
callback's exception raised there, stop waiting for the frame in hand) but runs the callbacks of all streams on `n`
shared threads, one frame of a stream at a time, streams served in turn. It applies to tracks whose processor is
streamlit-webrtc's callback processor (what `video_frame_callback` makes); any other keeps its own thread. 0 restores
streamlit-webrtc's thread per stream. Applies to streams started afterwards, in the whole process.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
SENTINEL = "__SENTINEL__"  # what streamlit-webrtc's stop() puts in a track's input queue


class StreamSlot:
    """One stream's place in the pool: its newest frame not yet processed, and whether it is queued or running.
    `process` runs on a pool thread for one frame; it must not raise (the pool logs and drops what does)."""

    def __init__(self, process: Callable[[Any], object]) -> None:
        self.process = process
        self.lock = threading.Lock()
        self.frame: Any = None
        self.scheduled = False  # in the ready queue or being processed: never on two threads at once
        self.stopped = False
        self.idle = threading.Event()
        self.idle.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the frame in hand (if any) is processed; what streamlit-webrtc's stop() calls."""
        self.idle.wait(timeout)


class FramePool:
    """`threads` threads that process the streams' newest frames, each stream in turn (first come, first served)."""

    def __init__(self, threads: int, name: str = "frame-pool") -> None:
        if threads < 1:
            raise ValueError("a frame pool needs at least one thread")
        self.threads = threads
        self._ready: queue.SimpleQueue[StreamSlot] = queue.SimpleQueue()
        for i in range(threads):
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True).start()

    def offer(self, slot: StreamSlot, frame: Any) -> None:
        """A stream's new frame; it replaces one still waiting (only the newest is processed)."""
        with slot.lock:
            if slot.stopped:
                return
            slot.frame = frame
            if slot.scheduled:
                return  # queued or running: the thread that has it takes this frame next
            slot.scheduled = True
            slot.idle.clear()
        self._ready.put(slot)

    def stop(self, slot: StreamSlot) -> None:
        """No more frames for this stream; the one in hand still finishes."""
        with slot.lock:
            slot.stopped, slot.frame = True, None

    def _run(self) -> None:
        while True:
            slot = self._ready.get()
            with slot.lock:
                frame, slot.frame = slot.frame, None
            if frame is not None:
                try:
                    slot.process(frame)
                except Exception:
                    log.exception("frame pool: a stream's frame failed")
            with slot.lock:
                again = slot.frame is not None and not slot.stopped
                if not again:
                    slot.scheduled = False
                    slot.idle.set()
            if again:  # a newer frame arrived meanwhile: to the back of the queue, so every stream gets its turn
                self._ready.put(slot)


class _Inbox:
    """Stands in for a track's input queue: frames go to the pool, streamlit-webrtc's sentinel stops the stream."""

    def __init__(self, pool: FramePool, slot: StreamSlot) -> None:
        self._pool, self._slot = pool, slot

    def put(self, item: Any) -> None:
        if isinstance(item, str) and item == SENTINEL:
            self._pool.stop(self._slot)
        else:
            self._pool.offer(self._slot, item)


def process_on(track: Any) -> Callable[[Any], None]:
    """What a pool thread does with one frame of `track` (an AsyncMediaProcessTrack): what the track's own worker
    thread does, without starting an event loop for a callback that has nothing to await."""

    def process(frame: Any) -> None:
        processor = track.processor
        try:
            if getattr(processor, "_queued_frames_callback", None) is None:
                new_frames = [processor.recv(frame)]
            else:  # a queued-frames callback is a coroutine function
                new_frames = asyncio.run(processor.recv_queued([frame]))
        except Exception as exc:  # as streamlit-webrtc does: recv raises it, and the stream ends
            log.error("Error occurred in the WebRTC thread: %s", exc, exc_info=True)
            with track._worker_exception_lock:
                track._worker_exception = exc
            track._in_queue.put(SENTINEL)
            return
        with track._out_lock:
            if len(track._out_deque) > 1:  # as streamlit-webrtc does: keep the oldest result not yet sent
                first = track._out_deque.popleft()
                track._out_deque.clear()
                track._out_deque.append(first)
            track._out_deque.extend(new_frames)

    return process


_OWN_START: list[Callable[..., None]] = []  # streamlit-webrtc's own AsyncMediaProcessTrack._start, kept on first change
_POOLS: dict[str, FramePool] = {}  # the process's pools by name (frame callbacks, decoders)


def shared_pool(threads: int, name: str = "frame-pool") -> FramePool:
    """The process's pool of that name with `threads` threads (a new one if the count changed; the old one serves
    the streams it has)."""
    pool = _POOLS.get(name)
    if pool is None or pool.threads != threads:
        pool = _POOLS[name] = FramePool(threads, name=name)
    return pool


def share_frame_threads(threads: int) -> None:
    """Run the frame callbacks of streams started from now on on `threads` shared threads; 0: a thread per stream."""
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncMediaProcessTrack

    if not _OWN_START:
        _OWN_START.append(AsyncMediaProcessTrack._start)
    own_start = _OWN_START[0]
    if threads <= 0:
        AsyncMediaProcessTrack._start = own_start  # type: ignore[method-assign]
        log.info("frame callbacks of new streams run on a thread per stream (streamlit-webrtc's own)")
        return
    pool = shared_pool(threads)

    def _start(track: Any) -> None:
        if track._thread:
            return
        if not isinstance(track.processor, CallbackAttachableProcessor):
            own_start(track)
            return
        slot = StreamSlot(process_on(track))
        track._out_lock = threading.Lock()
        track._out_deque = deque([])
        track._in_queue = _Inbox(pool, slot)
        track._thread = slot  # stop() joins it: waits for the frame in hand

    _start.__wrapped__ = own_start  # type: ignore[attr-defined]  # internals.check inspects the library's own
    AsyncMediaProcessTrack._start = _start  # type: ignore[method-assign,assignment]
    log.info("frame callbacks of new streams run on %d shared threads", threads)
