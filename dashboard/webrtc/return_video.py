"""The video sent back to each student (their own picture with the overlay drawn): aiortc's encoder bitrate, its
VP8 denoiser, and whether a late sender skips to the newest processed frame. Each changes aiortc internals for the
whole process (see dashboard/webrtc/__init__.py for the versions they were written for)."""
from __future__ import annotations

from collections.abc import Callable

import av

from settings import Settings

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

    subscribe.__wrapped__ = buffered_subscribe  # type: ignore[attr-defined]  # internals.check inspects aiortc's own
    MediaRelay.subscribe = subscribe if enabled else buffered_subscribe  # type: ignore[method-assign,assignment]


def tune_return_video(settings: Settings) -> None:
    """The video sent back to students, as configured: its bitrate cap, whether it is denoised, and whether a late
    sender skips to the newest frame."""
    cap_return_bitrate(settings.return_video_kbps)
    denoise_return_video(settings.tuning.return_video_denoise)
    send_newest_frames(settings.tuning.return_newest_frames)
