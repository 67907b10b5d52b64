import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.card import ModelCardError, read_card
from engine.classifier import load_classifier
from engine.registry import list_models, resolve_model


@pytest.mark.parametrize("runtime", ["tflite", "keras"])
def test_probabilities_sum_to_one_for_every_face(tiny_models_dir: Path, runtime: str) -> None:
    clf = load_classifier(tiny_models_dir / "tiny", runtime)
    crops = [np.random.default_rng(i).integers(0, 256, (60 + i, 60 + i), dtype=np.uint8) for i in range(5)]
    preds = clf.predict(crops)
    assert len(preds) == 5
    for p in preds:
        assert len(p.probabilities) == 7 and abs(sum(p.probabilities) - 1) < 1e-6


def test_batched_and_single_predictions_agree(tiny_models_dir: Path) -> None:
    clf = load_classifier(tiny_models_dir / "tiny", "tflite")
    crops = [np.random.default_rng(i).integers(0, 256, (48, 48), dtype=np.uint8) for i in range(40)]
    together = clf.predict(crops)  # 40 faces: one padded chunk of 32 and one of 8
    alone = [clf.predict([c])[0] for c in crops[:3] + crops[-2:]]
    for a, b in zip(alone, together[:3] + together[-2:]):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_tflite_and_keras_agree_closely(tiny_models_dir: Path) -> None:
    crops = [np.random.default_rng(i).integers(0, 256, (48, 48), dtype=np.uint8) for i in range(8)]
    lite = load_classifier(tiny_models_dir / "tiny", "tflite").predict(crops)
    full = load_classifier(tiny_models_dir / "tiny", "keras").predict(crops)
    for a, b in zip(lite, full):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=0.05)


def test_empty_batch() -> None:
    from engine.classifier import _Batched

    assert _Batched().predict([]) == []


def test_missing_model_file_is_a_clear_error(tiny_models_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_models_dir / "tiny", broken)
    (broken / "model.tflite").unlink()
    with pytest.raises(ModelCardError, match="missing"):
        load_classifier(broken)


def test_malformed_card_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text("{not json")
    with pytest.raises(ModelCardError, match="malformed"):
        read_card(tmp_path)
    (tmp_path / "card.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ModelCardError):
        read_card(tmp_path)


def test_registry_finds_default_and_named_models(tiny_models_dir: Path) -> None:
    assert resolve_model(tiny_models_dir) == tiny_models_dir / "tiny"
    assert resolve_model(tiny_models_dir, "tiny") == tiny_models_dir / "tiny"
    assert [c.name for _, c in list_models(tiny_models_dir)] == ["tiny"]
    with pytest.raises(ModelCardError, match="unknown model 'nope'; available: tiny"):
        resolve_model(tiny_models_dir, "nope")


def test_two_defaults_are_refused_unless_one_is_named(tiny_models_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(tiny_models_dir / "tiny", models / "a")
    shutil.copytree(tiny_models_dir / "tiny", models / "b")  # both cards say "default": true
    with pytest.raises(ModelCardError, match=r"more than one .* \(a, b\)"):
        resolve_model(models)
    assert resolve_model(models, "b") == models / "b"


def test_the_shipped_models_have_one_default_and_their_files() -> None:
    shipped = list_models(Path(__file__).resolve().parents[2] / "models")
    assert sum(card.default for _, card in shipped) == 1
    for folder, card in shipped:
        assert card.runtime in card.files and all((folder / f).is_file() for f in card.files.values())


def test_registry_with_no_models(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="no models found"):
        resolve_model(tmp_path)
