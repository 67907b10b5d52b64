"""Reading recorded videos with PyAV (FFmpeg) at the rate an analysis needs, not at the frame rate.

Every frame a codec needs is decoded (H.264 predicts frames from earlier ones), on FFmpeg's own threads; frames no
other frame refers to are skipped by the decoder when the analysis would not look at them anyway, and only the frames
looked at are converted to BGR arrays. Decoding runs on its own thread, a few frames ahead of the analysis, so the
two share the cores. Frames are held in memory only while analysed and never stored.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from engine.media import MediaError

log = logging.getLogger(__name__)
_END = object()


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (frames and seconds are 0 when it does not say)."""

    fps: float
    frames: int
    seconds: float
    width: int
    height: int
    created: datetime | None = None  # when the recording was made, where the container says (in UTC)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if not path.is_file():
        raise MediaError(f"{path}: not a file")
    try:
        with path.open("rb") as probe:
            probe.read(1)
    except OSError as exc:
        raise MediaError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _creation_time(metadata: dict[str, str]) -> datetime | None:
    """The container's `creation_time` (ISO 8601, as cameras and call recorders write it), if it holds a real one."""
    try:
        created = datetime.fromisoformat(metadata.get("creation_time", "").strip())
    except ValueError:
        return None
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    return created if created.year > 1970 else None  # some writers put the epoch there for "unknown"


class VideoReader:
    """One recorded video, a file or an upload held in memory (`name` then names it in messages); `sample` walks
    through it once."""

    def __init__(self, source: Path | BinaryIO, name: str | None = None) -> None:
        import av

        if isinstance(source, Path):
            _check_file(source)
        path = self.path = source if isinstance(source, Path) else Path(name or "upload")
        try:
            self._container = av.open(str(source) if isinstance(source, Path) else source, "r")
        except (av.FFmpegError, ValueError, OSError):
            raise MediaError(f"{path}: not a video this app can read (corrupt, or an unsupported format)") from None
        if not self._container.streams.video:
            self._container.close()
            raise MediaError(f"{path}: not a video (no video stream in the file)")
        stream = self._container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate and 0 < float(rate) < 1000 else 25.0
        seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not seconds and self._container.duration:
            seconds = self._container.duration / 1_000_000  # av.time_base
        frames = stream.frames or round(seconds * fps)
        self.info = VideoInfo(fps, frames, seconds, stream.codec_context.width, stream.codec_context.height,
                              _creation_time(self._container.metadata))
        self._stream = stream
        self._walk: Generator[tuple[float, np.ndarray]] | None = None
        self.bad_packets = 0  # packets the decoder refused (a damaged stretch is skipped, not fatal)

    def close(self) -> None:
        """Close the file, after stopping a walk (`sample`) still decoding: a caller that stops reading part-way
        (an error, a cancelled analysis) leaves its generator open until it is collected, and FFmpeg must not
        read a closed container."""
        if self._walk is not None:
            self._walk.close()
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sample(self, every: float, on_decoded: Callable[[float], object] = lambda t: None,
               threads: int = 0, ahead: int = 4) -> Iterator[tuple[float, np.ndarray]]:
        """(seconds from the start, BGR frame) for the first frame decoded at or after each multiple of `every`
        seconds (every frame when `every` is 0; a few frames later where skipped B-frames fall on that time).
        `on_decoded(t)` is called on the decoding thread for each decoded frame.
        `threads` decoding threads (0: FFmpeg's choice); `ahead` sampled frames are decoded ahead of the caller."""
        self._walk = self._sample(every, on_decoded, threads, ahead)
        return self._walk

    def _sample(self, every: float, on_decoded: Callable[[float], object], threads: int,
                ahead: int) -> Generator[tuple[float, np.ndarray]]:
        out: queue.Queue[object] = queue.Queue(max(ahead, 1))
        stop = threading.Event()
        worker = threading.Thread(target=self._decode, args=(every, on_decoded, threads, out, stop),
                                  name="video-decode", daemon=True)
        worker.start()
        try:
            while (item := out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            stop.set()
            while worker.is_alive():  # unblock a decoder waiting on a full queue
                try:
                    out.get(timeout=0.05)
                except queue.Empty:
                    pass
            worker.join()

    def _decode(self, every: float, on_decoded: Callable[[float], object], threads: int, out: queue.Queue[object],
                stop: threading.Event) -> None:
        import av

        stream = self._stream
        stream.thread_type = "AUTO"
        if threads:
            stream.codec_context.thread_count = threads
        # Frames nothing refers to (B-frames) need not be decoded while the next look is more than a few frames away;
        # a video whose frames are all references decodes as before.
        frame_s = 1.0 / self.info.fps
        lag = 6  # frames; a sampled frame may come up to a few frames after its time when B-frames are skipped
        skip_allowed = every >= 2 * lag * frame_s
        start: float | None = None
        due = last = 0.0
        index = 0
        try:
            for packet in self._container.demux(stream):
                if stop.is_set():
                    break
                if skip_allowed:  # the decoder answers `lag` frames after a packet goes in (threads, reordering)
                    stream.codec_context.skip_frame = "NONREF" if due - last > lag * frame_s else "DEFAULT"
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    self.bad_packets += 1
                    continue
                for frame in frames:
                    t_abs = float(frame.time) if frame.time is not None else index * frame_s
                    start = t_abs if start is None else start
                    t = last = max(t_abs - start, 0.0)
                    index += 1
                    on_decoded(t)
                    if t + 1e-6 >= due:
                        out.put((t, frame.to_ndarray(format="bgr24")))
                        due = (t // every + 1) * every if every > 0 else 0.0
        except Exception as exc:  # delivered to the caller's thread
            out.put(exc)
        finally:
            out.put(_END)

    def decode_only(self, on_decoded: Callable[[float], object] = lambda t: None) -> int:
        """Decode every frame and convert none: the ceiling of any analysis of this file. Returns the frame count."""
        count = 0
        stream = self._stream
        stream.thread_type = "AUTO"
        for frame in self._container.decode(stream):
            count += 1
            on_decoded(float(frame.time or 0.0))
        return count
