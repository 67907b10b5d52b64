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

from dashboard.webrtc.decoder_pool import share_decoder_threads
from dashboard.webrtc.frame_pool import share_frame_threads
from dashboard.webrtc.internals import check as check_internals
from dashboard.webrtc.return_video import tune_return_video
from dashboard.webrtc.uploads import keep_uploads_in_memory
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
    """Ends one student's stream once their lesson has ended or their records were erased: `ended` is asked for every
    frame (cheap: see db.stream_ends), and the first time it says yes, `on_end` runs once (forget the tracks, close
    the connection)."""

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
    (the lesson has ended, the student's records were erased) frames go back untouched: nothing more is analysed or recorded."""

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


def tune_webrtc(settings: Settings) -> None:
    """Everything the app changes in aiortc and streamlit-webrtc for the whole process, as configured (after checking
    that the libraries still fit the patches): the returned video (dashboard.webrtc.return_video), the shared
    threads that decode the incoming video (.decoder_pool) and those that run the frame callbacks (.frame_pool), and
    uploads kept in memory (.uploads).
    The app calls it once per process, and the capacity benchmarks call it so that they run the app's path."""
    check_internals()  # before anything is patched: a library that changed shape stops here, loudly
    tune_return_video(settings)
    share_decoder_threads(settings.tuning.decoder_threads)
    share_frame_threads(settings.tuning.frame_threads)
    keep_uploads_in_memory()


def rtc_configuration(settings: Settings) -> dict[str, object]:
    """ICE servers from the settings; none by default, so nothing contacts a public STUN server."""
    return {"iceServers": list(settings.ice_servers)}


def media_constraints(settings: Settings) -> dict[str, object]:
    return {"video": {"width": {"ideal": settings.video_width}, "height": {"ideal": settings.video_height},
                      "frameRate": {"ideal": settings.video_fps, "max": settings.video_fps}}, "audio": False}
