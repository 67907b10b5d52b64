import asyncio
import threading
import time
from typing import Any

import av
import pytest

from dashboard.webrtc.frame_pool import FramePool, StreamSlot, share_frame_threads
from tests.dashboard.cameras import counting_camera, picture


class Recorder:
    """A slot's work: records each frame with the thread it ran on; optionally slow, or failing on one frame."""

    def __init__(self, delay: float = 0.0, fail_on: object = None) -> None:
        self.delay, self.fail_on = delay, fail_on
        self.frames: list[Any] = []
        self.threads: set[str] = set()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, frame: object) -> None:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        with self._lock:
            self.running -= 1
        if frame == self.fail_on:
            raise RuntimeError("a bad frame")
        self.frames.append(frame)


def wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Gated:
    """A callback that records (name, frame) in a shared order and holds its first frame until released."""

    def __init__(self, name: str, order: list[tuple[str, object]], hold_first: bool = False) -> None:
        self.name, self.order = name, order
        self.release, self.holding = threading.Event(), threading.Event()
        self.threads: set[str] = set()
        self.running = self.most_at_once = 0
        if not hold_first:
            self.release.set()

    def __call__(self, frame: object) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.threads.add(threading.current_thread().name)
        self.holding.set()
        self.release.wait(5)
        self.order.append((self.name, frame))
        self.running -= 1


def test_a_busy_stream_skips_to_its_newest_frame_and_never_runs_on_two_threads_at_once() -> None:
    pool, order = FramePool(3), []
    work = Gated("a", order, hold_first=True)
    slot = StreamSlot(work)
    pool.offer(slot, 0)
    assert work.holding.wait(5)  # frame 0 is in hand
    for frame in range(1, 10):  # arrive while it is processed: only the newest waits
        pool.offer(slot, frame)
    work.release.set()
    wait_until(lambda: slot.idle.is_set() and len(order) == 2)
    assert order == [("a", 0), ("a", 9)]
    assert work.most_at_once == 1 and all(name.startswith("frame-pool-") for name in work.threads)


def test_streams_take_turns_so_a_slow_one_does_not_hold_back_the_others() -> None:
    pool, order = FramePool(1), []
    slow, quick = Gated("slow", order, hold_first=True), Gated("quick", order)
    slow_slot, quick_slot = StreamSlot(slow), StreamSlot(quick)
    pool.offer(slow_slot, 0)
    assert slow.holding.wait(5)  # the only thread is busy with the slow stream
    pool.offer(quick_slot, 0)
    pool.offer(slow_slot, 1)  # the slow stream's next frame arrives after the quick stream's
    slow.release.set()
    wait_until(lambda: slow_slot.idle.is_set() and quick_slot.idle.is_set() and len(order) == 3)
    assert order == [("slow", 0), ("quick", 0), ("slow", 1)]  # served in turn, not the slow stream first again


def test_a_failing_frame_is_logged_and_the_pool_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    pool, work = FramePool(1), Recorder(fail_on=1)
    slot = StreamSlot(work)
    for frame in range(3):
        pool.offer(slot, frame)
        wait_until(slot.idle.is_set)
    assert work.frames == [0, 2]
    assert "a stream's frame failed" in caplog.text


def test_a_stopped_stream_drops_its_waiting_frame_and_join_waits_for_the_one_in_hand() -> None:
    pool, work = FramePool(1), Recorder(delay=0.1)
    slot = StreamSlot(work)
    pool.offer(slot, "in hand")
    wait_until(lambda: work.running == 1)
    pool.offer(slot, "waiting")
    pool.stop(slot)
    pool.offer(slot, "after stop")
    slot.join(5)
    assert slot.idle.is_set() and work.frames == ["in hand"]


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError):
        FramePool(0)


def run_async_track(callback, frames: int) -> tuple[list[int], list[str], Exception | None]:  # type: ignore[no-untyped-def]
    """Frames through streamlit-webrtc's AsyncVideoProcessTrack, as webrtc_streamer(async_processing=True) runs them:
    the pts of each returned frame's picture, the callback's thread names, and what recv raised (if anything)."""
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    threads: list[str] = []

    def traced(frame: av.VideoFrame) -> av.VideoFrame:
        threads.append(threading.current_thread().name)
        return callback(frame)

    async def stream() -> tuple[list[int], Exception | None]:
        track = AsyncVideoProcessTrack(track=counting_camera(0.02), processor=CallbackAttachableProcessor(traced, None, None))
        pictures, raised = [], None
        try:
            for _ in range(frames):
                out = await track.recv()
                pictures.append(int(out.to_ndarray(format="bgr24")[0, 0, 0]))
        except Exception as exc:
            raised = exc
        track.stop()
        return pictures, raised

    pictures, raised = asyncio.run(stream())
    return pictures, threads, raised


def test_streamlit_webrtc_async_tracks_run_their_callbacks_on_the_pool_and_their_own_thread_when_restored() -> None:
    def brighter(frame: av.VideoFrame) -> av.VideoFrame:  # marks a processed picture: its value + 100
        if frame.pts == 1:
            time.sleep(0.1)  # the first result cannot be back before the first recv returns, however loaded the machine
        out = picture(int(frame.pts or 0) + 100)
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    try:
        share_frame_threads(2)
        pictures, threads, raised = run_async_track(brighter, 30)
        assert raised is None and threads and all(name.startswith("frame-pool-") for name in threads)
        assert pictures[0] == 1  # nothing processed yet: the camera's own frame, as streamlit-webrtc does
        assert any(p > 100 for p in pictures)  # processed results come back through recv
    finally:
        share_frame_threads(0)
    pictures, threads, raised = run_async_track(brighter, 12)
    assert raised is None and threads and all(name.startswith("async_media_processor_") for name in threads)
    assert any(p > 100 for p in pictures)


def test_a_callback_that_raises_ends_the_stream_with_its_error_as_streamlit_webrtc_does() -> None:
    def broken(frame: av.VideoFrame) -> av.VideoFrame:
        raise ValueError("the callback broke")

    try:
        share_frame_threads(1)
        _pictures, _threads, raised = run_async_track(broken, 30)
    finally:
        share_frame_threads(0)
    assert isinstance(raised, ValueError) and "the callback broke" in str(raised)
