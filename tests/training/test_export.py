from pathlib import Path

import keras
import numpy as np
import pytest

from engine.card import read_card
from engine.classifier import load_classifier
from engine.preprocess import preprocess_faces
from training.export import export_folder, export_tflite, main


@pytest.fixture(scope="module")
def model() -> keras.Model:
    from training.zoo import build

    keras.utils.set_random_seed(0)
    return build("mini_xception", 48)


def faces(n: int = 8) -> np.ndarray:
    return preprocess_faces(np.random.default_rng(1).integers(0, 256, (n, 48, 48), dtype=np.uint8), 48)


@pytest.mark.parametrize("quantize", ["none", "dynamic", "int8"])
def test_every_quantisation_serves_close_to_keras(model: keras.Model, tmp_path: Path, quantize: str) -> None:
    from ai_edge_litert.interpreter import Interpreter

    path = export_tflite(model, tmp_path / "m.tflite", quantize, representative=faces(16))
    interp = Interpreter(model_path=str(path))
    x = faces(1)
    interp.allocate_tensors()
    assert interp.get_input_details()[0]["dtype"] == np.float32  # int8 keeps float inputs and outputs
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])
    tolerance = {"none": 1e-4, "dynamic": 0.05, "int8": 0.1}[quantize]
    assert np.abs(out - np.asarray(model(x))).max() < tolerance


def test_int8_needs_calibration_faces(model: keras.Model, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="representative"):
        export_tflite(model, tmp_path / "m.tflite", "int8")
    with pytest.raises(ValueError, match="unknown quantisation"):
        export_tflite(model, tmp_path / "m.tflite", "fp8")


def test_export_folder_writes_a_loadable_copy(tiny_models_dir: Path, fer_csv: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the data cache goes to ./data/cache
    source = tiny_models_dir / "tiny"
    assert main([str(source), "--out", str(tmp_path / "tiny_int8"), "--data", str(fer_csv), "--samples", "20"]) == 0
    card = read_card(tmp_path / "tiny_int8")
    assert card.name == "tiny_int8" and not card.default and card.training["tflite"] == "int8"
    assert card.metrics == {}  # the old TFLite figures do not describe the new file
    clf = load_classifier(tmp_path / "tiny_int8", "tflite")
    (prediction,) = clf.predict([np.full((60, 60), 128, np.uint8)])
    assert abs(sum(prediction.probabilities) - 1) < 1e-6
    assert read_card(source).default  # the source folder is untouched
    with pytest.raises(SystemExit, match="new folder"):
        export_folder(source, source, "none", None, 10)
