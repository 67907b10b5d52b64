"""Shared fixtures: a real face image, a tiny model folder made by the training code, fakes, fresh databases."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import streamlit_webrtc  # noqa: E402,F401  # before TensorFlow: see dashboard/app.py

from engine.card import ModelCard  # noqa: E402
from engine.types import EMOTIONS, Box, Face, Prediction  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT_FACE = Box(177, 66, 95, 95)  # where scikit-image's astronaut.png has its face


@pytest.fixture(scope="session")
def astronaut_path() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data" / "astronaut.png"


@pytest.fixture(scope="session")
def astronaut_bgr(astronaut_path: Path) -> np.ndarray:
    image = cv2.imread(str(astronaut_path))
    assert image is not None
    return image


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with one small untrained mini-Xception in both runtimes, written like training does."""
    import keras

    from engine.card import write_card
    from training.export import export_tflite
    from training.zoo import build

    root = tmp_path_factory.mktemp("models")
    folder = root / "tiny"
    folder.mkdir()
    keras.utils.set_random_seed(0)
    model = build("mini_xception", 48)
    model.save(folder / "model.keras")
    export_tflite(model, folder / "model.tflite", quantize=True)
    write_card(folder, ModelCard(name="tiny", architecture="mini_xception", labels=EMOTIONS, input_size=48,
                                 files={"keras": "model.keras", "tflite": "model.tflite"}, runtime="tflite",
                                 default=True, parameters=int(model.count_params())))
    return root


class FakeDetector:
    """Returns the boxes it is given, frame after frame (or per-frame lists)."""

    name = "fake"
    near_face_px = 28

    def __init__(self, boxes: list[Box] | list[list[Box]]) -> None:
        self.frames = boxes if boxes and isinstance(boxes[0], list) else None
        self.boxes = boxes
        self.calls = 0
        self.sized_calls = 0  # calls with a size range: re-detections near a known face

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        boxes = self.frames[min(self.calls, len(self.frames) - 1)] if self.frames else self.boxes
        self.calls += 1
        self.sized_calls += size_range is not None
        return [Face(b) for b in boxes]  # type: ignore[arg-type]


class FakeClassifier:
    """Always 'Happy', and counts its calls and faces."""

    def __init__(self) -> None:
        self.card = ModelCard(name="fake", architecture="fake", labels=EMOTIONS, input_size=48,
                              files={"keras": "x"}, runtime="keras")
        self.calls = 0
        self.faces = 0

    def predict(self, crops: list[np.ndarray]) -> list[Prediction]:
        self.calls += 1
        self.faces += len(crops)
        probs = tuple(0.7 if label == "Happy" else 0.05 for label in EMOTIONS)
        return [Prediction(EMOTIONS, probs) for _ in crops]


@pytest.fixture
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture(scope="session")
def postgres_admin_url():  # type: ignore[no-untyped-def]
    """One PostgreSQL server for the whole run, started on first use."""
    from tests.postgres import pg_bin, postgres_server

    if pg_bin() is None:
        pytest.skip("POSTGRES TESTS SKIPPED: PostgreSQL is not installed (scripts/test.sh installs it as root)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh database per test, SQLite (WAL) and PostgreSQL: (engine, sessionmaker)."""
    from db.session import open_database

    if request.param == "postgres":
        from tests.postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_admin_url"))
    else:
        url = f"sqlite:///{tmp_path / 'test.db'}"
    engine, sessions = open_database(url)
    yield engine, sessions
    engine.dispose()
