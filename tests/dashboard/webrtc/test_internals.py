"""The WebRTC patches' expectations of aiortc, streamlit-webrtc and Streamlit: met by the pinned versions, and a
symbol that changes shape stops the app with the version found."""
from __future__ import annotations

import pytest

from dashboard.webrtc.internals import EXPECTED, PINNED, InternalsChanged, check, installed, problem


def test_the_installed_libraries_are_the_pinned_ones_and_fit_every_patch() -> None:
    assert {package: installed(package) for package in PINNED} == PINNED
    assert [(e.module, e.path, problem(e)) for e in EXPECTED if problem(e)] == []
    check()


def test_requirements_pin_the_same_versions() -> None:
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[3] / "requirements.txt").read_text().splitlines()
    for package, pinned in PINNED.items():
        assert any(line.split("#")[0].strip() == f"{package}=={pinned}" for line in lines), package


def test_a_signature_change_stops_the_app_naming_the_symbol_and_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiortc.contrib.media import MediaRelay

    def subscribe(self: object, track: object) -> object:  # an upgrade that dropped `buffered`
        return track

    monkeypatch.setattr(MediaRelay, "subscribe", subscribe)
    with pytest.raises(InternalsChanged, match=r"MediaRelay\.subscribe \(return_video\) takes \('self', 'track'\).*"
                                               r"aiortc 1\.16\.0 is installed"):
        check()


def test_a_missing_symbol_or_attribute_stops_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiortc import rtcrtpreceiver
    from aiortc.codecs import vpx

    monkeypatch.delattr(rtcrtpreceiver, "decoder_worker")
    monkeypatch.setattr(vpx, "MAX_BITRATE", "1500000")
    with pytest.raises(InternalsChanged) as caught:
        check()
    assert "decoder_worker (decoder_pool) is missing" in str(caught.value)
    assert "MAX_BITRATE (return_video) is a str, not a int" in str(caught.value)


def test_a_private_attribute_the_patch_writes_must_still_be_used() -> None:
    from dashboard.webrtc.internals import Expectation

    renamed = Expectation("streamlit-webrtc", "streamlit_webrtc.process", "AsyncMediaProcessTrack", "frame_pool",
                          mentions=("_out_deque",))
    assert problem(renamed, source=lambda _target: "self._output_frames = deque()") == "no longer uses _out_deque"


def test_the_app_refuses_to_start_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiortc.contrib.media import MediaRelay

    from dashboard import serve
    from settings import Settings

    monkeypatch.setattr(MediaRelay, "subscribe", lambda self: None)
    reason = serve.prepare(Settings())
    assert reason is not None and reason.startswith("the app's WebRTC patches") and "\n" not in reason


def test_the_apps_own_patches_are_seen_through() -> None:
    """Once the app has patched the libraries (every Streamlit cache reset patches them again), the check still
    inspects the libraries' own symbols."""
    from aiortc.contrib.media import MediaRelay
    from streamlit_webrtc.process import AsyncMediaProcessTrack

    from dashboard.streaming import tune_webrtc
    from settings import Settings

    tune_webrtc(Settings())
    assert AsyncMediaProcessTrack._start.__module__ == "dashboard.webrtc.frame_pool"  # patched
    assert MediaRelay.subscribe.__module__ == "dashboard.webrtc.return_video"
    check()
    tune_webrtc(Settings())
