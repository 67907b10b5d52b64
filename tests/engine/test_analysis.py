"""Recorded lessons' options: a classroom camera's small faces are found only when asked for."""
from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.galleries import classroom
from engine.analysis import SMALL_FACES_WIDTH, RecordingOptions, analyse_recording
from engine.detectors import make_detector


def test_a_classroom_cameras_50_pixel_faces_need_the_small_faces_option() -> None:
    frames = [(t * 0.5, classroom(50)) for t in range(16)]  # 8 s, looked at twice a second
    started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    options = RecordingOptions()
    assert options.small_faces().detect_width == SMALL_FACES_WIDTH > options.detect_width
    gallery = analyse_recording(frames, make_detector("haar"), None, options=options, started=started)
    small = analyse_recording(frames, make_detector("haar"), None, options=options.small_faces(), started=started)
    assert gallery.identities.participants == 0  # 50 px is under Haar's window on a 640-px copy
    assert small.identities.participants >= 10  # of 12 (measured: 10; two of the LFW crops are hard for Haar)
    assert all(p.observations >= 7 for p in small.participants.values())
