import json
from pathlib import Path

import numpy as np
import pytest

from engine.card import read_card
from training.evaluate import main, metrics


def test_metrics_on_a_known_confusion() -> None:
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    m = metrics(probs, labels, ("A", "B"))
    assert m["accuracy"] == 0.75 and m["confusion_matrix"] == [[1, 1], [0, 2]] and m["n"] == 4
    per_class = m["per_class"]
    assert isinstance(per_class, dict)
    assert per_class["A"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(0.6667, abs=1e-4), "support": 2}
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])), abs=1e-4)


@pytest.mark.parametrize("tta", ["none", "flip"])
def test_evaluate_prints_json_writes_png_and_records_in_the_card(
    tiny_models_dir: Path, fer_csv: Path, tmp_path: Path, tta: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_models_dir / "tiny", folder)
    assert main([str(folder), "--data", str(fer_csv), "--split", "PrivateTest", "--json", "--tta", tta,
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 14 and 0 <= result["accuracy"] <= 1 and len(result["confusion_matrix"]) == 7
    assert set(result["per_class"]) == set(read_card(folder).labels)
    assert Path(result["confusion_png"]).stat().st_size > 1000
    key = "PrivateTest" + ("_tta_flip" if tta == "flip" else "")
    assert read_card(folder).metrics[key]["accuracy"] == result["accuracy"]


def test_evaluate_a_missing_model_folder(tmp_path: Path, fer_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope"), "--data", str(fer_csv)]) == 2
    assert "no card.json" in capsys.readouterr().err


def test_compare_prints_one_row_per_model(tiny_models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from training.compare import main as compare

    assert compare(["--models-dir", str(tiny_models_dir)]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 3 and rows[2].startswith("| tiny (default) | mini_xception | 48×48 |")
