"""What the patches in this package expect of the libraries they patch, checked at start-up."""
from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

log = logging.getLogger(__name__)

PINNED: dict[str, str] = {"aiortc": "1.16.0", "av": "18.1.0", "streamlit-webrtc": "0.79.0", "streamlit": "1.67.0",
                          "starlette": "1.10.0"}


class InternalsChanged(RuntimeError):
    """A patched library symbol no longer has the shape the patch was written for."""


@dataclass(frozen=True)
class Expectation:
    package: str  # the distribution whose version is reported
    module: str
    path: str  # attribute path inside the module, e.g. "AsyncMediaProcessTrack._start"; "" for the module
    why: str  # which patch needs it
    parameters: tuple[str, ...] | None = None  # the callable's parameter names, in order
    mentions: tuple[str, ...] = ()  # names its source must use (attributes the patch reads or writes)
    kind: type | None = None  # for a constant: its type


EXPECTED: tuple[Expectation, ...] = (
    Expectation("streamlit-webrtc", "streamlit_webrtc.process", "AsyncMediaProcessTrack._start", "frame_pool",
                ("self",), ("_thread", "_in_queue")),
    Expectation("streamlit-webrtc", "streamlit_webrtc.process", "AsyncMediaProcessTrack", "frame_pool",
                mentions=("_out_lock", "_out_deque", "_in_queue", "_worker_exception", "_worker_exception_lock",
                          "__SENTINEL__")),
    Expectation("streamlit-webrtc", "streamlit_webrtc.models", "CallbackAttachableProcessor", "frame_pool",
                mentions=("recv", "recv_queued", "_queued_frames_callback")),
    Expectation("aiortc", "aiortc.rtcrtpreceiver", "decoder_worker", "decoder_pool",
                ("loop", "input_q", "output_q")),
    Expectation("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", "decoder_pool",
                mentions=("threading.Thread", "queue.Queue", "decoder_worker")),
    Expectation("aiortc", "aiortc.codecs", "get_decoder", "decoder_pool", ("codec",)),
    Expectation("aiortc", "aiortc.codecs.vpx", "DEFAULT_BITRATE", "return_video", kind=int),
    Expectation("aiortc", "aiortc.codecs.vpx", "MIN_BITRATE", "return_video", kind=int),
    Expectation("aiortc", "aiortc.codecs.vpx", "MAX_BITRATE", "return_video", kind=int),
    Expectation("aiortc", "aiortc.codecs.h264", "MAX_BITRATE", "return_video", kind=int),
    Expectation("aiortc", "aiortc.codecs.vpx", "Vp8Encoder", "return_video", mentions=("av.CodecContext.create",
                                                                                      "options")),
    Expectation("aiortc", "aiortc.contrib.media", "MediaRelay.subscribe", "return_video",
                ("self", "track", "buffered")),
    Expectation("streamlit-webrtc", "streamlit_webrtc.component", "WebRtcStreamerContext._get_worker", "context",
                ("self",)),
    Expectation("streamlit-webrtc", "streamlit_webrtc.component", "", "context",
                mentions=("context._last_rendered_run_count is not None", "WebRtcWorker")),
    Expectation("streamlit-webrtc", "streamlit_webrtc.webrtc", "WebRtcWorker.stop", "context", ("self", "timeout")),
    Expectation("streamlit-webrtc", "streamlit_webrtc.session_info", "get_script_run_count", "context",
                ("session_info",)),
    Expectation("streamlit", "streamlit.runtime.app_session", "AppSession.request_rerun", "context",
                ("self", "client_state")),
    Expectation("streamlit", "streamlit.runtime.app_session", "AppSession", "context", mentions=("_client_state",)),
    Expectation("streamlit", "streamlit.runtime.session_manager", "SessionManager.get_active_session_info", "context",
                ("self", "session_id")),
    Expectation("starlette", "starlette.formparsers", "MultiPartParser.spool_max_size", "uploads", kind=int),
    Expectation("starlette", "starlette.formparsers", "MultiPartParser", "uploads",
                mentions=("SpooledTemporaryFile(max_size=self.spool_max_size)",)),
)


def installed(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def problem(expectation: Expectation, source: Callable[[Any], str] = inspect.getsource) -> str | None:
    """What is wrong with one expectation, or None."""
    try:
        target: object = importlib.import_module(expectation.module)
        for part in filter(None, expectation.path.split(".")):  # an empty path: the module itself
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return "is missing"
    target = inspect.unwrap(target) if callable(target) else target  # the library's own, under the app's patch
    if expectation.kind is not None and not isinstance(target, expectation.kind):
        return f"is a {type(target).__name__}, not a {expectation.kind.__name__}"
    if expectation.parameters is not None:
        try:
            names = tuple(inspect.signature(target).parameters)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return "is not a callable with a signature"
        if names[:len(expectation.parameters)] != expectation.parameters:
            return f"takes {names}, not {expectation.parameters}"
    if expectation.mentions:
        try:
            text = source(target)
        except (OSError, TypeError):
            return "has no source to check"
        missing = [name for name in expectation.mentions if name not in text]
        if missing:
            return f"no longer uses {', '.join(missing)}"
    return None


def check(expected: tuple[Expectation, ...] = EXPECTED) -> None:
    """Raise InternalsChanged naming every symbol that changed shape and the version found; a version other than
    the pinned one whose symbols all still fit is only logged."""
    problems = [f"{e.module}.{e.path} ({e.why}) {p}; {e.package} {installed(e.package)} is installed, the patch was "
                f"written for {PINNED[e.package]}" for e in expected if (p := problem(e)) is not None]
    if problems:
        raise InternalsChanged("the app's WebRTC patches (dashboard/webrtc) do not fit the installed libraries: "
                               + " | ".join(problems))
    for package, pinned in PINNED.items():
        found = installed(package)
        if found != pinned:
            log.warning("%s %s is installed; dashboard/webrtc was written for %s (its symbols still fit)", package,
                        found, pinned)
