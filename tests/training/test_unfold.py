from pathlib import Path

import keras
import numpy as np
import pytest

from engine.card import read_card
from engine.classifier import load_classifier
from engine.preprocess import preprocess_faces
from training.unfold import main, unfold
from training.zoo import build, copy_weights

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "inceptionv3"


def faces(n: int, seed: int) -> np.ndarray:
    """Smooth random 48x48 'faces' (blurred noise), preprocessed to the shipped model's input."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (n, 12, 12), dtype=np.uint8)
    return preprocess_faces(np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2), read_card(SHIPPED).input_size)


@pytest.fixture(scope="module")
def rebuilt() -> keras.Model:
    return unfold(SHIPPED, faces(64, seed=0))


def test_the_rebuilt_keras_network_predicts_what_the_shipped_tflite_does(rebuilt: keras.Model) -> None:
    x = faces(32, seed=1)
    served = load_classifier(SHIPPED).predict_array(x)
    mine = rebuilt.predict(x, verbose=0)
    assert np.abs(mine - served).max() < 0.05
    assert (mine.argmax(1) == served.argmax(1)).mean() >= 0.9


def test_its_batch_norms_start_on_the_measured_means_so_a_training_step_starts_near_it(rebuilt: keras.Model) -> None:
    x = faces(64, seed=0)  # the faces the means were measured on
    inference = rebuilt(x, training=False).numpy()
    training = rebuilt(x, training=True).numpy()
    assert np.abs(training - inference).mean() < 0.1
    norms = [la for la in rebuilt.get_layer("inception_v3").layers if isinstance(la, keras.layers.BatchNormalization)]
    assert all(np.abs(n.moving_mean.numpy()).sum() > 0 for n in norms)


def test_the_written_file_starts_a_larger_input_run(tmp_path: Path, fer_csv: Path) -> None:
    out = tmp_path / "stage1.keras"
    assert main([str(SHIPPED), "--data", str(fer_csv), "--samples", "16", "--out", str(out)]) == 0
    model = build("inceptionv3", 99)
    assert copy_weights(model, out) == 2  # the backbone and the head
    saved = keras.models.load_model(out, compile=False)
    assert np.allclose(model.get_layer("head_softmax").get_weights()[0], saved.get_layer("head_softmax").get_weights()[0])


def test_it_refuses_a_folder_that_is_not_inceptionv3(tiny_models_dir: Path) -> None:
    folder = next(p for p in tiny_models_dir.iterdir() if p.is_dir())
    with pytest.raises(SystemExit, match="not an InceptionV3"):
        unfold(folder, faces(4, seed=0))
