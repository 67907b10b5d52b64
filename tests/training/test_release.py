"""Release checks on the full FER2013 file: every shipped card's PrivateTest accuracy reproduces. Marked `slow`
(minutes, and the dataset is not in the repository): `bash scripts/test.sh -m slow` with FER2013_CSV pointing at
your copy of fer2013.csv(.gz)."""
import os
from pathlib import Path

import pytest

from engine.classifier import load_classifier
from engine.registry import list_models
from engine.types import EMOTIONS
from tests.conftest import REPO
from training.data import load_dataset
from training.evaluate import metrics, predict_split

pytestmark = pytest.mark.slow
DATA = Path(os.environ.get("FER2013_CSV", REPO.parent / "shared" / "data" / "fer2013.csv.gz"))


@pytest.mark.parametrize("folder", [folder for folder, _card in list_models(REPO / "models")], ids=lambda f: f.name)
def test_the_cards_private_test_accuracy_reproduces(folder: Path, tmp_path: Path) -> None:
    if not DATA.exists():
        pytest.skip(f"set FER2013_CSV to your copy of fer2013.csv (not found at {DATA})")
    split = load_dataset(DATA, tmp_path / "cache")["PrivateTest"]
    classifier = load_classifier(folder)
    recorded = classifier.card.metrics["PrivateTest"]
    measured = metrics(predict_split(classifier, split.images, "none"), split.labels, EMOTIONS)
    assert measured["accuracy"] == pytest.approx(recorded["accuracy"], abs=0.0005)
