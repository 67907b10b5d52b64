"""Glue between streamlit-webrtc and the engine: a per-student StreamProcessor and its frame callback.

Threading: the callback runs on streamlit-webrtc's worker thread for that stream. It touches only the
processor (which holds no Streamlit state) and the writer's non-blocking submit; no `st.*` calls here.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import av
import cv2
import numpy as np

from dashboard.decoder_pool import share_decoder_threads
from dashboard.frame_pool import share_frame_threads
from db.writer import ObservationWriter
from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.detectors import make_detector
from engine.inference import AnalysisWorker
from engine.scanning import ScanWorker
from engine.stream import StreamProcessor
from settings import Settings

log = logging.getLogger(__name__)


def make_processor(settings: Settings, classifier: EmotionClassifier | None, writer: ObservationWriter,
                   lesson_id: int, participant_id: int, attention: AttentionEstimator | None = None,
                   worker: AnalysisWorker | None = None, scanner: ScanWorker | None = None) -> StreamProcessor:
    """A processor for one student's stream; each stream gets its own detector (OpenCV's are not thread-safe),
    hands its due faces to the process's shared analysis worker and its full scans to the shared scan worker."""
    return StreamProcessor(
        make_detector(settings.detector), classifier, lambda obs: writer.submit(lesson_id, participant_id, obs),
        stream_id=f"lesson{lesson_id}-p{participant_id}", attention=attention, worker=worker, scanner=scanner,
        **settings.stream_options(),
    )


def to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """The frame as a BGR array (WebRTC's I420 frames are converted with OpenCV)."""
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


def from_bgr(image: np.ndarray) -> av.VideoFrame:
    """A BGR array as an I420 frame, the format the VP8 encoder needs (so aiortc need not convert it again)."""
    height, width = image.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        i420: np.ndarray = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)
        return av.VideoFrame.from_ndarray(i420, format="yuv420p")  # type: ignore[arg-type]
    return av.VideoFrame.from_ndarray(image, format="bgr24")


class StreamEnd:
    """Ends one student's stream once their lesson has ended: `ended` is asked for every frame (cheap: see
    db.lesson_ends), and the first time it says yes, `on_end` runs once (forget the tracks, close the connection)."""

    def __init__(self, ended: Callable[[], bool], on_end: Callable[[], None]) -> None:
        self._ended, self._on_end = ended, on_end
        self.done = False

    def __call__(self) -> bool:
        if self.done:
            return True
        if not self._ended():
            return False
        self.done = True
        try:
            self._on_end()
        except Exception:  # closing is best effort: the frames are no longer analysed either way
            log.exception("could not end a stream")
        return True


def frame_callback(processor: StreamProcessor,
                   end: Callable[[], bool] | None = None) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """The video_frame_callback: decode to BGR, process in memory (never stored), encode back. Once `end` says so
    (the lesson has ended) frames go back untouched: nothing more is analysed or recorded."""

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        if end is not None and end():
            return frame
        image = to_bgr(frame)
        out = processor.process(image)
        if out is image:  # nothing drawn: send the student's own frame back unconverted
            return frame
        new = from_bgr(out)
        new.pts, new.time_base = frame.pts, frame.time_base
        return new

    return callback


_AIORTC_BITRATES: dict[str, tuple[int, ...]] = {}  # codec module -> its own (default, min, max), kept on first cap


def cap_return_bitrate(kbps: int) -> None:
    """Cap the bitrate of the video sent back to every student (their own picture with the overlay drawn).

    aiortc starts each VP8 encoder at 500 kbps and lets the browser's bandwidth estimate (REMB) raise it up to
    1.5 Mbps, re-creating the encoder at every step; on a fast network it can climb. Each extra packet costs the
    server Python work (packetising, SRTP, sending) that no student needs for a 320x240 preview. aiortc reads these
    module constants whenever an encoder starts or its bitrate changes, so this applies to every stream of the
    process.
    0 restores aiortc's own values."""
    from aiortc.codecs import h264, vpx

    names = ("DEFAULT_BITRATE", "MIN_BITRATE", "MAX_BITRATE")
    for module in (vpx, h264):
        default, low, high = _AIORTC_BITRATES.setdefault(module.__name__, tuple(getattr(module, n) for n in names))
        cap = kbps * 1000 if kbps > 0 else high
        for name, value in zip(names, (min(default, cap), min(low, cap), cap)):
            setattr(module, name, value)


class _OptionsOverride:
    """A PyAV codec context that merges `overrides` into the options aiortc gives it (before it opens)."""

    def __init__(self, inner: object, overrides: dict[str, str]) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_overrides", overrides)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: object) -> None:
        if name == "options" and isinstance(value, dict):
            value = {**value, **object.__getattribute__(self, "_overrides")}
        setattr(self._inner, name, value)


class _AvForVpx:
    """Stands in for the `av` module inside aiortc.codecs.vpx: encoders it creates get `overrides` merged into their
    options; everything else is PyAV's own."""

    def __init__(self, overrides: dict[str, str]) -> None:
        self._overrides = overrides
        self.CodecContext = self  # aiortc calls av.CodecContext.create(name, mode)

    def create(self, name: str, mode: str) -> object:
        context = av.CodecContext.create(name, mode)  # type: ignore[call-overload]
        return _OptionsOverride(context, self._overrides) if mode == "w" else context

    def __getattr__(self, name: str) -> object:
        return getattr(av, name)


def denoise_return_video(enabled: bool) -> None:
    """Whether aiortc's VP8 encoder denoises the video sent back to students (aiortc: noise-sensitivity 4).

    The temporal denoiser costs the server about 0.006 cores per student at 320x240 and 10 fps (README, Capacity:
    benchmarks.capacity and benchmarks.browser_capacity with and without it). The picture goes back only to the
    student who sent it, as a preview at a capped bitrate, so the default leaves the denoiser out. aiortc creates
    an encoder per stream and sets its options and opens it in one call, so the module's `av` is replaced by one
    whose encoders take noise-sensitivity 0; True restores PyAV itself. Applies to encoders created afterwards, in
    every stream of the process."""
    from aiortc.codecs import vpx

    vpx.av = av if enabled else _AvForVpx({"noise-sensitivity": "0"})  # type: ignore[assignment]


PROCESS_TRACKS_MODULE = "streamlit_webrtc.process"  # where the tracks that run the frame callback are defined
_BUFFERED_SUBSCRIBE: list[Callable[..., object]] = []  # aiortc's own MediaRelay.subscribe, kept on first change


def send_newest_frames(enabled: bool) -> None:
    """Whether each student's returned video carries the newest processed frame (True) or every one in turn.

    streamlit-webrtc hands the processed track to aiortc's sender through MediaRelay.subscribe(track), whose
    default proxy queues every frame without bound: when the sender falls behind for a moment (its encoder runs in
    a shared thread pool), the queue never drains at a steady load and the student's picture drifts seconds behind
    (benchmarks.capacity saw delays of 0.6-6 s past its limit). An unbuffered proxy keeps only the newest frame, so
    a late sender skips a frame instead. This applies to processed tracks (the classes of streamlit-webrtc's
    process module, told by their module so this glue stays free of streamlit-webrtc) in every relay of the
    process; False restores aiortc's own subscribe."""
    from aiortc.contrib.media import MediaRelay

    if not _BUFFERED_SUBSCRIBE:
        _BUFFERED_SUBSCRIBE.append(MediaRelay.subscribe)
    buffered_subscribe = _BUFFERED_SUBSCRIBE[0]

    def subscribe(relay: MediaRelay, track: object, buffered: bool = True) -> object:
        processed = type(track).__module__ == PROCESS_TRACKS_MODULE
        return buffered_subscribe(relay, track, buffered and not processed)

    MediaRelay.subscribe = subscribe if enabled else buffered_subscribe  # type: ignore[method-assign,assignment]


def tune_return_video(settings: Settings) -> None:
    """The video sent back to students, as configured: its bitrate cap, whether it is denoised, and whether a late
    sender skips to the newest frame."""
    cap_return_bitrate(settings.return_video_kbps)
    denoise_return_video(settings.return_video_denoise)
    send_newest_frames(settings.return_newest_frames)


def tune_webrtc(settings: Settings) -> None:
    """Everything the app changes in aiortc and streamlit-webrtc for the whole process, as configured: the returned
    video (above), the shared threads that decode the incoming video (dashboard.decoder_pool) and those that run the
    frame callbacks (dashboard.frame_pool). The app calls it once per process, and the capacity benchmarks call it
    so that they run the app's path."""
    tune_return_video(settings)
    share_decoder_threads(settings.decoder_threads)
    share_frame_threads(settings.frame_threads)


def rtc_configuration(settings: Settings) -> dict[str, object]:
    """ICE servers from the settings; none by default, so nothing contacts a public STUN server."""
    return {"iceServers": list(settings.ice_servers)}


def media_constraints(settings: Settings) -> dict[str, object]:
    return {"video": {"width": {"ideal": settings.video_width}, "height": {"ideal": settings.video_height},
                      "frameRate": {"ideal": settings.video_fps, "max": settings.video_fps}}, "audio": False}
