from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.card import ModelCard, read_card, write_card
from engine.types import EMOTIONS
from training.train import TrainConfig, main

FIXED = np.array([0.05, 0.05, 0.1, 0.4, 0.1, 0.1, 0.2], dtype=np.float32)  # what the constant teacher always says


def constant_teacher(folder: Path, size: int = 32, labels: tuple[str, ...] = EMOTIONS) -> Path:
    """A model folder whose Keras model answers FIXED for any face of `size` px (a teacher whose mix is known)."""
    import keras

    inputs = keras.Input((size, size, 1))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    out = keras.layers.Dense(7, activation="softmax", kernel_initializer="zeros",
                             bias_initializer=keras.initializers.Constant(np.log(FIXED)))(x)
    folder.mkdir(parents=True)
    keras.Model(inputs, out).save(folder / "model.keras")
    write_card(folder, ModelCard(name=folder.name, architecture="constant", labels=labels, input_size=size,
                                 files={"keras": "model.keras"}, runtime="keras"))
    return folder


def test_the_teachers_probabilities_are_mixed_into_every_target(fer_csv: Path, tmp_path: Path) -> None:
    import keras

    from training.data import load_dataset
    from training.train import build_datasets

    splits = load_dataset(fer_csv, tmp_path / "cache")
    plain = TrainConfig(arch="mini_xception", name="unit", data=str(fer_csv), input_size=48, batch_size=16)
    taught = replace(plain, teacher=str(constant_teacher(tmp_path / "teacher")), teacher_weight=0.25)

    def first_batch(cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
        keras.utils.set_random_seed(cfg.seed)
        x, y, _w = build_datasets(splits, cfg)[0][0]
        return np.asarray(x), np.asarray(y)

    x, y_plain = first_batch(plain)
    _, y_taught = first_batch(taught)
    assert x.shape == (16, 48, 48, 1)  # the student's faces; the teacher got them resized to its 32 px
    np.testing.assert_allclose(y_taught, 0.75 * y_plain + 0.25 * FIXED, atol=1e-6)
    np.testing.assert_allclose(y_taught.sum(axis=1), 1.0, atol=1e-6)


def test_a_run_with_a_teacher_trains_and_its_card_names_the_teacher(fer_csv: Path, tmp_path: Path) -> None:
    teacher = constant_teacher(tmp_path / "teacher", size=48)
    assert main(["--arch", "mini_xception", "--data", str(fer_csv), "--name", "student", "--models-dir",
                 str(tmp_path / "models"), "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
                 "--batch-size", "16", "--warmup-epochs", "0", "--epochs", "1", "--no-tflite",
                 "--teacher", str(teacher), "--teacher-weight", "0.5"]) == 0
    card = read_card(tmp_path / "models" / "student")
    assert card.training["teacher"] == str(teacher) and card.training["teacher_weight"] == 0.5
    assert card.data["teacher"] == "teacher"


def test_a_teacher_with_other_labels_or_no_keras_file_is_refused(fer_csv: Path, tmp_path: Path) -> None:
    common = ["--arch", "mini_xception", "--data", str(fer_csv), "--runs-dir", str(tmp_path / "runs"),
              "--models-dir", str(tmp_path / "models"), "--cache-dir", str(tmp_path / "cache"), "--epochs", "1",
              "--teacher-weight", "0.5"]
    other = constant_teacher(tmp_path / "other", labels=tuple(reversed(EMOTIONS)))
    assert main([*common, "--name", "a", "--teacher", str(other)]) == 2
    (tmp_path / "other" / "model.keras").unlink()
    write_card(tmp_path / "other", replace(read_card(tmp_path / "other"), labels=EMOTIONS))
    assert main([*common, "--name", "b", "--teacher", str(other)]) == 2
    assert main([*common, "--name", "c", "--teacher", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "models").exists()  # nothing written


def test_teacher_and_weight_go_together(fer_csv: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--arch", "mini_xception", "--data", str(fer_csv), "--teacher-weight", "0.5"])
    with pytest.raises(SystemExit):
        main(["--arch", "mini_xception", "--data", str(fer_csv), "--teacher", "models/mini_xception",
              "--teacher-weight", "1.5"])
