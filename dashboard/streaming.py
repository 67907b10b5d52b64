"""Glue between streamlit-webrtc and the engine: a per-student StreamProcessor and its frame callback.

Threading: the callback runs on streamlit-webrtc's worker thread for that stream. It touches only the
processor (which holds no Streamlit state) and the writer's non-blocking submit; no `st.*` calls here.
"""
from __future__ import annotations

from collections.abc import Callable

import av

from db.writer import ObservationWriter
from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.detectors import make_detector
from engine.stream import StreamProcessor
from settings import Settings


def make_processor(settings: Settings, classifier: EmotionClassifier | None, writer: ObservationWriter,
                   lesson_id: int, participant_id: int, attention: AttentionEstimator | None = None) -> StreamProcessor:
    """A processor for one student's stream; each stream gets its own detector (OpenCV's are not thread-safe)."""
    return StreamProcessor(
        make_detector(settings.detector), classifier,
        lambda obs: writer.submit(lesson_id, participant_id, obs),
        stream_id=f"lesson{lesson_id}-p{participant_id}", analysis_interval=settings.analysis_interval,
        detect_width=settings.detect_width, attention=attention, blinks=settings.blink_tracking,
    )


def frame_callback(processor: StreamProcessor) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """The video_frame_callback: decode to BGR, process in memory (never stored), encode back."""

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        image = frame.to_ndarray(format="bgr24")
        out = processor.process(image)
        new = av.VideoFrame.from_ndarray(out, format="bgr24")
        new.pts, new.time_base = frame.pts, frame.time_base
        return new

    return callback


def rtc_configuration(settings: Settings) -> dict[str, object]:
    """ICE servers from the settings; none by default, so nothing contacts a public STUN server."""
    return {"iceServers": list(settings.ice_servers)}


def media_constraints(settings: Settings) -> dict[str, object]:
    return {"video": {"width": {"ideal": settings.video_width}, "height": {"ideal": settings.video_height},
                      "frameRate": {"ideal": settings.video_fps, "max": settings.video_fps}}, "audio": False}
