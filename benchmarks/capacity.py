"""Capacity: how many students can stream at once to one server with the default model and settings.

python -m benchmarks.capacity [--streams N] [--max-streams 64] [--seconds 20] [--processes K] [--json]

Each simulated student is the media work streamlit-webrtc and aiortc do for a real one, in one app process (streams
start spread over one second, as students never join phase-locked). Frames take the app's own path:
- on the one event loop all streams share, the next VP8 frame of a real face video arrives at the stream's frame
  rate and goes into a decoder queue, decoded as aiortc's RTCRtpReceiver decodes: aiortc's decoder_worker, on the
  app's shared decoder threads (dashboard.webrtc.decoder_pool, ENGAGE_DECODER_THREADS; 0: aiortc's own thread per stream),
  into aiortc's track for a received video;
- aiortc's MediaRelay and streamlit-webrtc's AsyncVideoProcessTrack, wired as webrtc_streamer(async_processing=True)
  wires them: the newest frame goes to the app's shared frame threads (dashboard.webrtc.frame_pool, ENGAGE_FRAME_THREADS;
  0: streamlit-webrtc's own thread per stream), which run the app's own frame callback
  (dashboard.streaming.frame_callback: to BGR, StreamProcessor, back to a VideoFrame) with the default detector,
  model, attention signals, the process's shared AnalysisWorker (unless --inline-analysis) and the real
  ObservationWriter on a fresh SQLite file;
- a sender task that encodes every returned frame with the encoder aiortc's RTCRtpSender gets (the app's tuning
  included) in the loop's executor, as that sender does.
Not simulated: aiortc's RTP/SRTP/ICE work and each student's Streamlit session. benchmarks.browser_capacity
measures how much a real Chromium student costs beside this simulation (README, Capacity).

A stream passes when its frame callback's 95th percentile, and that of the delay from a frame's
arrival (encoded) to the encoding of the frame returned for it, stay <= --p95-ms (66 ms: one frame at 15 fps), its
face (its most-analysed track) gets one analysis per ENGAGE_ANALYSIS_INTERVAL (2 % allowed for jitter), and its receiver
keeps pace with the frame rate (>= 95 % of frames decoded and handed on), and so do its frame callback and its sender (>= 90 % of
the frame rate processed and sent back: both take the newest frame and skip the rest when late, so a picture that
repeats frames would otherwise pass).
`max_streams` is the largest N at which every stream passes: N rises in steps of --step until a run fails, then
the gap is bisected. CPU use is the process's CPU time over the measured window, in cores and as a share of the
machine.

--processes K runs each N as K copies of this benchmark side by side, N split between them (several app instances
on one machine, each with its own GIL, as dashboard.serve runs them): a run passes when every stream of every copy
passes; cores are the copies' sum. By default K is the number of app processes the app itself starts on this machine
(ENGAGE_INSTANCES; 0, its default, is one per usable core, at most 8); --processes 1 measures one app process. The
copies start together and each measures its own window after its own warm-up, so the windows overlap by all but the
difference in their start-up times.

Reported, not judged: "age p95", how old the picture under the overlay is when it is encoded (from the arrival of
the frame the callback worked on). streamlit-webrtc's async track answers each frame with the newest finished
result, relabelled, so the picture is one frame interval older than the path's delay when the callback keeps up.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path
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

from benchmarks.common import astronaut, emit, frame_of
from dashboard.streaming import frame_callback, make_processor, tune_webrtc
from db.lessons import add_participant, create_lesson
from db.session import open_database
from db.writer import ObservationWriter
from engine.attention import FaceMesh
from engine.classifier import EmotionClassifier, load_classifier
from engine.detectors import make_detector
from engine.inference import AnalysisWorker
from engine.registry import resolve_model
from engine.scanning import ScanWorker
from settings import Settings

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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # /proc's CPU times are in these per second


def thread_counters() -> dict[int, tuple[str, int, int]]:
    """Per thread of this process: (its Python name, context switches so far, CPU clock ticks so far), from Linux's
    /proc (empty elsewhere). Threads Python did not start (libraries' own) are named "(native)"."""
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    counters = {}
    for task in Path("/proc/self/task").glob("*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            switches = sum(int(line.split()[1]) for line in (task / "status").read_text().splitlines()
                           if "ctxt_switches:" in line)
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            counters[int(task.name)] = (names.get(int(task.name), "(native)"), switches, int(fields[11]) + int(fields[12]))
    return counters


def machine_ticks() -> tuple[int, int]:
    """The whole machine's CPU clock ticks so far, from Linux's /proc/stat (zeros elsewhere): (busy, stolen), where
    stolen is time the hypervisor gave this VM's virtual CPUs to someone else while they had work."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        return user + nice + system + irq + softirq, steal
    return 0, 0


def thread_report(before: dict[int, tuple[str, int, int]], after: dict[int, tuple[str, int, int]],
                  seconds: float) -> dict[str, dict[str, float]]:
    """Threads grouped by name without their number (recv-3 -> recv): how many, their context switches per second
    and the cores they used over the window, busiest first."""
    groups: dict[str, list[float]] = {}
    for tid, (name, switches, cpu) in after.items():
        if tid not in before:
            continue
        group = re.sub(r"ThreadPoolExecutor-\d+_\d+", "executor", re.sub(r"[-_ ]?\d+$", "", name)) or name
        row = groups.setdefault(group, [0, 0.0, 0.0])
        row[0] += 1
        row[1] += (switches - before[tid][1]) / seconds
        row[2] += (cpu - before[tid][2]) / CLOCK_TICKS / seconds
    ordered = sorted(groups.items(), key=lambda item: -item[1][2])
    return {g: {"threads": int(n), "switches_per_s": round(sw), "cores": round(c, 3)} for g, (n, sw, c) in ordered}


@dataclass(frozen=True)
class Trial:
    streams: int
    passed: bool
    p95_callback_ms: float  # the worst stream's
    min_analyses_per_s: float
    min_received_fps: float
    min_output_fps: float
    cpu_cores: float
    cpu_share: float
    errors: int
    p95_latency_ms: float = 0.0  # the worst stream's decoded-to-encoded delay
    p95_loop_lag_ms: float = 0.0  # how late the shared event loop ran a 10 ms timer
    p95_content_age_ms: float = 0.0  # the worst stream's age of the picture under the overlay when sent (webrtc only)
    min_sent_fps: float = 0.0  # frames sent back per second, the worst stream's
    threads: dict[str, dict[str, float]] = field(default_factory=dict)  # thread_report over the measured window
    other_cores: float = 0.0  # cores the rest of the machine kept busy meanwhile (other processes, the kernel's work)
    steal_cores: float = 0.0  # cores the hypervisor took away from this VM meanwhile (a slower machine for the run)

    def row(self) -> str:
        return (f"{self.streams:>8}{'yes' if self.passed else 'no':>7}{self.p95_callback_ms:>10.1f}"
                f"{self.p95_latency_ms:>10.1f}{self.p95_content_age_ms:>10.1f}{self.p95_loop_lag_ms:>10.1f}"
                f"{self.min_analyses_per_s:>11.2f}{self.min_received_fps:>10.1f}{self.min_output_fps:>10.1f}"
                f"{self.min_sent_fps:>10.1f}"
                f"{self.cpu_cores:>8.2f}{self.cpu_share:>8.0%}{self.other_cores:>8.2f}{self.steal_cores:>8.2f}")


def in_window(values: list[float], start: float, end: float) -> list[float]:
    return [v for v in values if start <= v < end]


def face_rate(analyses: list[tuple[float, int]], start: float, end: float) -> float:
    """Analyses per second of the stream's face: its most-analysed track (a detector's occasional false alarm
    elsewhere in the frame must neither count as the face nor drag its rate down)."""
    per_track: dict[int, list[float]] = {}
    for t, track in analyses:
        if start <= t < end:
            per_track.setdefault(track, []).append(t)
    times = max(per_track.values(), key=len, default=[])
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def judge(logs: list[StreamLog], start: float, end: float, fps: int, interval: float, p95_limit: float) -> dict[str, float]:
    seconds = end - start
    p95s, latencies, ages, rates, received, output, sent = [], [], [], [], [], [], []
    for slog in logs:
        durations = [d for t, d in slog.callback_ms if start <= t < end]
        p95s.append(float(np.percentile(durations, 95)) if durations else float("inf"))
        delays = [d for t, d in slog.latency_ms if start <= t < end]
        latencies.append(float(np.percentile(delays, 95)) if delays else 0.0)
        age = [a for t, a in slog.content_age_ms if start <= t < end]
        ages.append(float(np.percentile(age, 95)) if age else 0.0)
        rates.append(face_rate(slog.analyses, start, end))
        received.append(len(in_window(slog.received, start, end)) / seconds)
        output.append(len(durations) / seconds)
        sent.append(len(in_window(slog.sent, start, end)) / seconds)
    worst = {"p95_callback_ms": max(p95s), "p95_latency_ms": max(latencies), "p95_content_age_ms": max(ages),
             "min_analyses_per_s": min(rates),
             "min_received_fps": min(received), "min_output_fps": min(output), "min_sent_fps": min(sent)}
    worst["passed"] = float(worst["p95_callback_ms"] <= p95_limit and worst["p95_latency_ms"] <= p95_limit
                            and worst["min_analyses_per_s"] >= 0.98 / interval and worst["min_received_fps"] >= 0.95 * fps
                            and worst["min_output_fps"] >= 0.9 * fps and worst["min_sent_fps"] >= 0.9 * fps)
    return worst


def run_trial(n: int, settings: Settings, classifier: EmotionClassifier | None, mesh: FaceMesh | None,
              packets: list[bytes], seconds: float, warmup: float, p95_limit: float, shared_worker: bool = True) -> Trial:
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = open_database(f"sqlite:///{Path(tmp) / 'capacity.db'}")
        with sessions.begin() as s:
            lesson = create_lesson(s, "capacity benchmark")
            pids = [add_participant(s, lesson, f"student {i}", consent=True).id for i in range(n)]
            lesson_id = lesson.id
        writer = ObservationWriter(sessions)
        worker = AnalysisWorker(classifier, mesh, nice=settings.background_nice) if shared_worker else None
        scanner = ScanWorker(make_detector(settings.detector), nice=settings.background_nice) if settings.background_scans else None
        wall_offset = time.time() - time.monotonic()
        stop = threading.Event()
        loop, relay = EventLoopThread(), MediaRelay()
        streams: list[WebrtcStream] = []
        for i, pid in enumerate(pids):
            processor = make_processor(settings, classifier, writer, lesson_id, pid, mesh, worker, scanner)
            slog_analyses: list[tuple[float, int]] = []
            inner_sink = processor.sink

            def sink(obs, inner=inner_sink, times=slog_analyses):  # type: ignore[no-untyped-def]
                times.append((obs.timestamp.timestamp() - wall_offset, obs.track_id))  # frame time, monotonic clock
                return inner(obs) if inner else None

            processor.sink = sink
            stream = WebrtcStream(i, packets, settings.video_fps, frame_callback(processor), stop, loop.loop, relay,
                                  settings.async_processing)
            stream.log.analyses = slog_analyses
            streams.append(stream)
        t0 = time.monotonic() + 0.2
        for stream in streams:  # students join at different moments, not phase-locked: starts spread over a second
            stream.phase = stream.index / n
            stream.start(t0)
        time.sleep(max(t0 + warmup - time.monotonic(), 0))
        cpu0, wall0, threads0, machine0 = time.process_time(), time.monotonic(), thread_counters(), machine_ticks()
        time.sleep(seconds)
        cpu1, wall1, threads1, machine1 = time.process_time(), time.monotonic(), thread_counters(), machine_ticks()
        stop.set()
        for stream in streams:
            stream.join()
        loop_lag = loop.p95_lag_ms(wall0, wall1)
        loop.close()
        if worker is not None:
            worker.close()
        if scanner is not None:
            scanner.close()
        writer.close()
        engine.dispose()
    verdict = judge([s.log for s in streams], wall0, wall1, settings.video_fps, settings.analysis_interval, p95_limit)
    cores = (cpu1 - cpu0) / (wall1 - wall0)
    busy, stolen = ((after - before) / CLOCK_TICKS / (wall1 - wall0) for before, after in zip(machine0, machine1))
    trial = Trial(n, bool(verdict["passed"]), round(verdict["p95_callback_ms"], 1), round(verdict["min_analyses_per_s"], 3),
                  round(verdict["min_received_fps"], 2), round(verdict["min_output_fps"], 2), round(cores, 2),
                  round(cores / (os.cpu_count() or 1), 3), sum(s.log.errors for s in streams), round(verdict["p95_latency_ms"], 1),
                  round(loop_lag, 1), round(verdict["p95_content_age_ms"], 1), round(verdict["min_sent_fps"], 2),
                  thread_report(threads0, threads1, wall1 - wall0), round(max(busy - cores, 0.0), 2), round(stolen, 2))
    log.warning("%d streams: %s", n, trial)
    return trial


def stream_inputs(settings: Settings) -> tuple[EmotionClassifier | None, FaceMesh | None, list[bytes]]:
    """What every simulated stream shares, as the app configures it: the classifier, the landmark model, the clip."""
    classifier = (load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime,
                                  settings.inference_threads) if settings.emotion_inference else None)
    mesh = FaceMesh(settings.facemesh_path) if settings.attention and settings.facemesh_path.exists() else None
    return classifier, mesh, encoded_clip(settings.video_width, settings.video_height, settings.video_fps)


def search(try_n, step: int, limit: int) -> tuple[int, list[Trial]]:  # type: ignore[no-untyped-def]
    """The largest passing N: rise by `step` until a failure (or `limit`), then bisect the gap."""
    trials: list[Trial] = []
    best, n = 0, min(step, limit)
    failed_at = None
    while n <= limit:
        trial = try_n(n)
        trials.append(trial)
        if not trial.passed:
            failed_at = n
            break
        best = n
        n += step
    if failed_at is not None:
        lo, hi = best, failed_at
        while hi - lo > 1:
            mid = (lo + hi) // 2
            trial = try_n(mid)
            trials.append(trial)
            lo, hi = (mid, hi) if trial.passed else (lo, mid)
        best = lo
    return best, trials


def split_streams(n: int, processes: int) -> list[int]:
    """N streams spread over `processes` copies as evenly as possible (the first copies take the remainder); a copy
    with no stream is left out."""
    base, extra = divmod(n, processes)
    return [count for count in (base + (i < extra) for i in range(processes)) if count > 0]


def combine(trials: list[Trial]) -> Trial:
    """One run of several copies side by side: the worst stream of any copy, the cores of all, their threads summed.
    `other` is what the machine kept busy beyond all the copies (each copy counts its siblings as other)."""
    cores = sum(t.cpu_cores for t in trials)
    busy = sum(t.other_cores + t.cpu_cores for t in trials) / len(trials)  # each copy's view of the whole machine
    threads: dict[str, dict[str, float]] = {}
    for t in trials:
        for name, group in t.threads.items():
            total = threads.setdefault(name, {"threads": 0, "switches_per_s": 0, "cores": 0.0})
            for key, value in group.items():
                total[key] = round(total.get(key, 0) + value, 3)
    return Trial(
        streams=sum(t.streams for t in trials), passed=all(t.passed for t in trials),
        p95_callback_ms=max(t.p95_callback_ms for t in trials),
        min_analyses_per_s=min(t.min_analyses_per_s for t in trials),
        min_received_fps=min(t.min_received_fps for t in trials), min_output_fps=min(t.min_output_fps for t in trials),
        cpu_cores=round(cores, 2), cpu_share=round(sum(t.cpu_share for t in trials), 3),
        errors=sum(t.errors for t in trials), p95_latency_ms=max(t.p95_latency_ms for t in trials),
        p95_loop_lag_ms=max(t.p95_loop_lag_ms for t in trials),
        p95_content_age_ms=max(t.p95_content_age_ms for t in trials), min_sent_fps=min(t.min_sent_fps for t in trials),
        threads=threads, other_cores=round(max(busy - cores, 0.0), 2), steal_cores=max(t.steal_cores for t in trials))


def run_copies(n: int, processes: int, child_args: list[str]) -> Trial:
    """N streams as copies of this benchmark run side by side, each in its own process (its own interpreter and GIL),
    with this process's environment (so the same settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i, count in enumerate(split_streams(n, processes)):
            out, err = Path(tmp, f"{i}.out"), Path(tmp, f"{i}.err")
            with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: a full pipe would stall a copy
                command = [sys.executable, "-m", "benchmarks.capacity", "--streams", str(count), "--processes", "1",
                           "--json", *child_args]
                runs.append((subprocess.Popen(command, stdout=stdout, stderr=stderr), out, err))
        trials = []
        try:
            for proc, out, err in runs:
                if proc.wait() != 0:
                    raise RuntimeError(f"a copy exited with {proc.returncode}: {err.read_text()[-2000:]}")
                trials.append(Trial(**json.loads(out.read_text().strip().splitlines()[-1])["trials"][0]))
        finally:
            for proc, _, _ in runs:  # after a failed copy, the others are not left running
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return combine(trials)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.capacity", description=__doc__.splitlines()[0])
    p.add_argument("--streams", type=int, default=0, help="run this many streams once instead of searching")
    p.add_argument("--step", type=int, default=10)
    p.add_argument("--max-streams", type=int, default=64)
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--p95-ms", type=float, default=66.0)
    p.add_argument("--inline-analysis", action="store_true", help="analyse in each stream's callback (no shared worker)")
    p.add_argument("--no-tuning", action="store_true", help="keep Python's and OpenCV's thread defaults")
    p.add_argument("--threads-report", action="store_true",
                   help="also print each run's threads by name: context switches per second and cores (Linux)")
    p.add_argument("--processes", type=int, default=0,
                   help="run each N as this many copies side by side, N split between them, as that many app instances "
                        "(0, the default: as many as the app starts, ENGAGE_INSTANCES; 1: one app process)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.processes < 0:
        p.error("--processes takes 0 (as the app) or more")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = Settings.from_env()
    args.processes = args.processes or settings.app_instances
    if not args.no_tuning:
        settings.tune_process()
    tune_webrtc(settings)  # as the app does (the incoming clip's bitrate is fixed)
    classifier, mesh, packets = stream_inputs(settings)

    def try_n(n: int) -> Trial:
        if args.processes > 1:
            child_args = ["--seconds", str(args.seconds), "--warmup", str(args.warmup), "--p95-ms", str(args.p95_ms),
                          *(["--inline-analysis"] if args.inline_analysis else []),
                          *(["--no-tuning"] if args.no_tuning else [])]
            return run_copies(n, args.processes, child_args)
        return run_trial(n, settings, classifier, mesh, packets, args.seconds, args.warmup, args.p95_ms,
                         not args.inline_analysis)

    if args.streams:
        trial = try_n(args.streams)
        best, trials = (trial.streams if trial.passed else 0), [trial]
    else:
        best, trials = search(try_n, args.step, args.max_streams)
    config = {"video": f"{settings.video_width}x{settings.video_height}@{settings.video_fps}",
              "detector": settings.detector, "detect_width": settings.detect_width,
              "detect_interval": settings.detect_interval, "follow_interval": settings.follow_interval,
              "rescan_interval": settings.rescan_interval,
              "background_scans": settings.background_scans, "background_nice": settings.background_nice,
              "analysis_interval": settings.analysis_interval,
              "return_video_kbps": settings.return_video_kbps or "aiortc", "return_video_denoise": settings.return_video_denoise,
              "return_newest_frames": settings.return_newest_frames,
              "clip_kbps": clip_kbps(packets, settings.video_fps),
              "model": classifier.card.name if classifier else "attention-only", "runtime": settings.runtime or "card",
              "attention": mesh is not None, "shared_worker": not args.inline_analysis,
              "async_processing": settings.async_processing, "frame_threads": settings.frame_threads, "tuning": not args.no_tuning,
              "processes": args.processes, "cpus": os.cpu_count()}
    lines = [f"{'streams':>8}{'pass':>7}{'p95 ms':>10}{'delay p95':>10}{'age p95':>10}{'loop lag':>10}{'analyses/s':>11}"
             f"{'in fps':>10}{'out fps':>10}{'sent fps':>10}"
             f"{'cores':>8}{'cpu':>8}{'other':>8}{'steal':>8}"]
    lines += [t.row() for t in trials]
    if args.threads_report:
        for t in trials:
            lines.append(f"threads at {t.streams} streams (switches per second, cores):")
            lines += [f"  {name:<22}{g['threads']:>4} threads{g['switches_per_s']:>9,.0f}/s{g['cores']:>8.3f}"
                      for name, g in t.threads.items()]
    lines.append(f"max_streams {best}  ({', '.join(f'{k} {v}' for k, v in config.items())}; worst stream per run; "
                 f"pass: callback and decoded-to-encoded p95 <= {args.p95_ms:g} ms, >= 1 analysis per "
                 f"{settings.analysis_interval:g} s, frames received and sent back at the rate; other: cores the rest of the "
                 f"machine used meanwhile, steal: cores the hypervisor took from this VM)")
    chosen = next((t for t in trials if t.streams == best), None)
    result: dict[str, object] = {
        "max_streams": best, "cpu_cores_at_max": chosen.cpu_cores if chosen else None,
        "cpu_share_at_max": chosen.cpu_share if chosen else None,
        "p95_callback_ms_at_max": chosen.p95_callback_ms if chosen else None,
        "p95_delay_ms_at_max": chosen.p95_latency_ms if chosen else None,
        "p95_loop_lag_ms_at_max": chosen.p95_loop_lag_ms if chosen else None,
        "p95_content_age_ms_at_max": chosen.p95_content_age_ms if chosen else None,
        "config": config, "trials": [t.__dict__ for t in trials]}
    emit(result, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
