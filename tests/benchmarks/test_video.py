"""The recorded-lesson benchmark on a short recording of its own kind."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.galleries import Gallery, GallerySpec, real_faces
from benchmarks.video import measure, recording, specs
from engine.attention import FaceMesh
from engine.classifier import load_classifier
from engine.detectors import make_detector
from engine.registry import resolve_model
from settings import Settings
from tests.conftest import REPO


def test_the_faces_are_different_people() -> None:
    faces = real_faces(9)
    small = [np.asarray(f[: min(f.shape[0], 25), : min(f.shape[1], 25)], np.float32) for f in faces]
    assert len({f.tobytes() for f in small}) == 9
    with pytest.raises(ValueError, match="at most"):
        real_faces(100)


def test_gallery_frames_cut_to_a_slide_and_reseat_faces() -> None:
    spec = GallerySpec("g", 2, 2, 10.0, width=320, height=180, fps=10, cuts=((3.0, 4.0),), shuffle_after=5.0)
    gallery = Gallery(spec)
    assert gallery.seat(0, 1.0) == 0 and gallery.seat(0, 6.0) == 1
    first, slide = gallery.frame(1.0).copy(), gallery.frame(3.5)
    assert slide.mean() > 200 and abs(float(first.mean()) - float(slide.mean())) > 50
    assert [s.name for s in specs(60)] == ["gallery-2x2", "gallery-3x3", "cuts-2x2"]


def test_measure_reports_participants_against_faces_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(REPO / "models"))
    settings = Settings.from_env()
    parts = (make_detector("haar"), load_classifier(resolve_model(settings.models_dir, ""), "tflite", 1),
             FaceMesh(settings.facemesh_path))
    spec = GallerySpec("short-2x2", 2, 2, 6.0, width=960, height=540, fps=15)
    row = measure(spec, recording(spec, tmp_path), parts, rate=1.0)
    assert (row["faces_planted"], row["participants"]) == (4, 4)
    assert row["decode_only_frames"] == spec.frames and 0 < row["frames_looked"] <= 13
    assert float(row["realtime_factor"]) > 0 and float(row["decode_only_realtime_factor"]) > 0  # type: ignore[arg-type]
