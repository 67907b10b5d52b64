import json
from pathlib import Path

import numpy as np
import pytest

from engine.card import read_card
from engine.classifier import load_classifier
from training.bundle import main as bundle_main
from training.bundle import read_bundle
from training.data import DatasetError, load_dataset
from training.parts import load_parts, save_parts
from training.parts import main as parts_main
from training.train import main as train_main


def test_a_bundle_holds_the_chosen_splits_bit_exact(fer_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.fer.xz"
    assert bundle_main(["--data", str(fer_csv), "--splits", "Training", "PublicTest", "--out", str(out),
                        "--cache-dir", str(tmp_path / "cache")]) == 0
    original = load_dataset(fer_csv)
    packed = load_dataset(out)
    assert sorted(packed) == ["PublicTest", "Training"]
    for name in packed:
        np.testing.assert_array_equal(packed[name].images, original[name].images)
        np.testing.assert_array_equal(packed[name].labels, original[name].labels)
    with pytest.raises(SystemExit):
        bundle_main(["--data", str(fer_csv), "--out", str(tmp_path / "wrong.npz")])


def test_a_damaged_bundle_is_a_dataset_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fer.xz"
    bad.write_bytes(b"not xz")
    with pytest.raises(DatasetError, match="not a readable FER2013 bundle"):
        read_bundle(bad)


def test_parts_stay_under_the_limit_and_come_back_in_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(shape).astype(np.float32) for shape in ((300, 200), (10,), (500, 100), (3, 3, 8, 8))]
    paths = save_parts(weights, tmp_path, max_bytes=130_000)
    assert len(paths) > 1 and all(p.stat().st_size <= 130_000 + 1024 for p in paths)  # npz headers aside
    back = load_parts(tmp_path)
    assert [w.shape for w in back] == [w.shape for w in weights]
    for a, b in zip(back, weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)  # float16 on the way
    with pytest.raises(ValueError, match="over the"):
        save_parts(weights, tmp_path / "tight", max_bytes=1000)
    paths[0].unlink()
    with pytest.raises(ValueError, match="missing or incomplete"):
        load_parts(tmp_path)


def test_a_run_on_training_alone_goes_to_parts_and_back_to_a_model_folder(fer_csv: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "train.fer.xz"
    assert bundle_main(["--data", str(fer_csv), "--out", str(bundle), "--cache-dir", str(tmp_path / "cache")]) == 0
    runs = tmp_path / "runs"
    assert train_main(["--arch", "mini_xception", "--data", str(bundle), "--name", "lent", "--runs-dir", str(runs),
                       "--models-dir", str(tmp_path / "m"), "--batch-size", "16", "--warmup-epochs", "0",
                       "--epochs", "2", "--no-tflite", "--max-minutes", "30", "--workers", "1"]) == 0
    state = json.loads((runs / "lent" / "state.json").read_text())
    assert state["epoch"] == 2 and state["best_val_accuracy"] == -1.0  # no PublicTest: the last epoch is kept
    assert parts_main(["export", "--run", str(runs / "lent"), "--out", str(tmp_path / "parts"), "--max-mib", "0.2"]) == 0
    assert len(list((tmp_path / "parts").glob("weights-*.npz"))) > 1
    assert parts_main(["import", "--parts", str(tmp_path / "parts"), "--models-dir", str(tmp_path / "models"),
                       "--name", "lent_model"]) == 0
    card = read_card(tmp_path / "models" / "lent_model")
    assert card.architecture == "mini_xception" and card.training["epochs_run"] == 2 and "tflite" in card.files
    faces = np.random.default_rng(1).random((4, 48, 48, 1), dtype=np.float32)
    trained = load_classifier(tmp_path / "m" / "lent", "keras").predict_array(faces)  # type: ignore[attr-defined]
    served = load_classifier(tmp_path / "models" / "lent_model").predict_array(faces)  # type: ignore[attr-defined]
    np.testing.assert_allclose(served, trained, atol=0.02)


def test_max_minutes_stops_a_run_that_would_overrun(fer_csv: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert train_main(["--arch", "mini_xception", "--data", str(fer_csv), "--name", "short", "--runs-dir", str(runs),
                       "--models-dir", str(tmp_path / "m"), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "16",
                       "--warmup-epochs", "0", "--epochs", "5", "--no-tflite", "--max-minutes", "0.0001"]) == 0
    assert json.loads((runs / "short" / "state.json").read_text())["epoch"] == 1  # stopped, resumable
