import json
from pathlib import Path

import numpy as np
import pytest

from engine.card import read_card
from engine.classifier import load_classifier
from training.train import class_weights, main
from training.zoo import ARCHITECTURES, backbone_layers, build, copy_weights, set_trainable_top


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_builds_and_trains_one_step(name: str) -> None:
    import keras

    size = ARCHITECTURES[name].default_input
    model = build(name, size)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((4, size, size, 1), dtype=np.float32)
    y = keras.utils.to_categorical([0, 1, 2, 3], 7)
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss) and model.output_shape == (None, 7)


def test_inceptionv3_refuses_small_inputs() -> None:
    with pytest.raises(ValueError, match="at least 75"):
        build("inceptionv3", 48)


def test_baselines_have_no_pretrained_weights() -> None:
    with pytest.raises(ValueError, match="no pretrained backbone"):
        build("cnn4", weights="imagenet")


def test_cnn4_matches_the_published_size() -> None:
    assert 4.0e6 < build("cnn4").count_params() < 5.0e6


def test_fine_tuning_unfreezes_the_top_but_keeps_batch_norm_frozen() -> None:
    import keras

    backbone = backbone_layers(build("inceptionv3", 75))
    assert backbone is not None
    set_trainable_top(backbone, "mixed7")
    bn = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert not any(layer.trainable for layer in bn)
    assert backbone.get_layer("mixed9").trainable and not backbone.get_layer("mixed0").trainable


def test_a_run_can_start_from_saved_weights_at_another_input_size(fer_csv: Path, tmp_path: Path) -> None:
    source = build("mini_xception", 48)
    source.save(tmp_path / "source.keras")
    smaller = build("mini_xception", 40)
    assert not all(np.array_equal(a, b) for a, b in zip(smaller.get_weights(), source.get_weights()))
    copy_weights(smaller, tmp_path / "source.keras")
    assert all(np.array_equal(a, b) for a, b in zip(smaller.get_weights(), source.get_weights()))
    with pytest.raises(ValueError, match="do not fit"):
        copy_weights(build("cnn4", 48), tmp_path / "source.keras")
    lean = build("mini_xception_lean", 48)  # a narrower stem: it starts fresh, the blocks after it are carried over
    copied = copy_weights(lean, tmp_path / "source.keras")
    same = [all(np.array_equal(a, b) for a, b in zip(mine.get_weights(), theirs.get_weights()))
            for mine, theirs in zip(lean.layers, source.layers) if mine.weights]
    assert copied == sum(same) and 0 < copied < len(same) and not same[0] and all(same[-10:])

    assert main(["--arch", "mini_xception", "--data", str(fer_csv), "--name", "small", "--input-size", "40",
                 "--init", str(tmp_path / "source.keras"), "--models-dir", str(tmp_path / "models"),
                 "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "16",
                 "--warmup-epochs", "0", "--epochs", "1"]) == 0
    card = read_card(tmp_path / "models" / "small")
    assert card.input_size == 40 and card.training["init"] == str(tmp_path / "source.keras")
    assert card.training["pretrained"] == "none (started from source.keras, trained here on FER2013)"


def test_class_weights_lift_rare_classes() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    w = class_weights(labels, 0.5)
    assert w[1] == pytest.approx(3 * w[0]) and w[labels].mean() == pytest.approx(1.0)
    assert class_weights(labels, 0.0)[labels].mean() == pytest.approx(1.0)


def test_training_writes_a_loadable_model_folder_and_resumes(fer_csv: Path, tmp_path: Path) -> None:
    common = ["--arch", "mini_xception", "--data", str(fer_csv), "--name", "unit", "--models-dir",
              str(tmp_path / "models"), "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
              "--batch-size", "16", "--warmup-epochs", "0"]
    assert main([*common, "--epochs", "1"]) == 0
    state = json.loads((tmp_path / "runs" / "unit" / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]) == 1
    first_seconds = state["train_seconds"]
    assert main([*common, "--epochs", "2"]) == 0  # resumes at epoch 2 from the checkpoint
    state = json.loads((tmp_path / "runs" / "unit" / "state.json").read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2]
    assert 0 < first_seconds < state["train_seconds"]  # the epochs' seconds add up across resumptions
    folder = tmp_path / "models" / "unit"
    card = read_card(folder)
    assert card.architecture == "mini_xception" and card.files == {"keras": "model.keras", "tflite": "model.tflite"}
    assert card.training["epochs_run"] == 2 and card.metrics["PublicTest"]["accuracy"] is not None
    assert card.training["train_seconds"] == round(state["train_seconds"], 1)
    preds = load_classifier(folder).predict([np.zeros((48, 48), np.uint8)])
    assert abs(sum(preds[0].probabilities) - 1) < 1e-6


def test_a_resumed_run_draws_new_batches_instead_of_replaying_its_first_epochs(fer_csv: Path, tmp_path: Path) -> None:
    from training.data import load_dataset
    from training.train import TrainConfig, build_datasets

    splits = load_dataset(fer_csv, tmp_path / "cache")
    cfg = TrainConfig(arch="mini_xception", name="unit", data=str(fer_csv), input_size=48, batch_size=16)
    first_run = build_datasets(splits, cfg)[0]
    epoch0 = [first_run[i] for i in range(len(first_run))]
    first_run.on_epoch_end()
    epoch1 = first_run[0]
    resumed = build_datasets(splits, cfg, epoch=1)[0][0]  # a run resumed after its first epoch
    for a, b in zip(epoch1, resumed):
        np.testing.assert_array_equal(a, b)  # goes on with the batches the run would have seen
    again = build_datasets(splits, cfg)[0][0]
    for a, b in zip(epoch0[0], again):
        np.testing.assert_array_equal(a, b)  # the same seed and epoch, the same batch
    assert not np.array_equal(epoch0[0][0], epoch1[0])  # a new epoch: other faces, other augmentations
    seen = np.concatenate([targets for _x, targets, _w in epoch0])
    assert len(seen) == len(first_run) * cfg.batch_size  # every batch full


def test_export_now_writes_an_unfinished_run_with_its_own_configuration(fer_csv: Path, tmp_path: Path) -> None:
    common = ["--arch", "mini_xception", "--data", str(fer_csv), "--name", "snap", "--models-dir",
              str(tmp_path / "models"), "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache")]
    assert main([*common, "--export-now"]) == 2  # nothing to export yet: a clear error, no folder
    assert not (tmp_path / "models" / "snap").exists()
    assert main([*common, "--epochs", "1", "--batch-size", "16", "--warmup-epochs", "0", "--no-tflite"]) == 0
    state = json.loads((tmp_path / "runs" / "snap" / "state.json").read_text())
    state["config"]["epochs"] = 9  # as if epoch 1 of a run planned for 9 epochs were still training
    (tmp_path / "runs" / "snap" / "state.json").write_text(json.dumps(state))
    assert main([*common, "--export-now", "--epochs", "3", "--default"]) == 0
    card = read_card(tmp_path / "models" / "snap")
    assert card.training["epochs"] == 9 and card.training["epochs_run"] == 1 and card.training["batch_size"] == 16
    assert card.default and "tflite" in card.files
    state_after = json.loads((tmp_path / "runs" / "snap" / "state.json").read_text())
    assert state_after == state  # the run's own checkpoint state is left as it was
    assert main([*common[:1], "cnn4", *common[2:], "--export-now"]) == 2  # the run is another architecture's


def test_unknown_architecture_exits_with_usage(fer_csv: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--arch", "resnet9000", "--data", str(fer_csv)])


def test_bad_dataset_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["--arch", "mini_xception", "--data", str(bad), "--runs-dir", str(tmp_path)]) == 2


def test_inceptionv3_from_scratch_tracks_its_batch_statistics_faster() -> None:
    import keras

    from training.zoo import SCRATCH_BN_MOMENTUM

    backbone = backbone_layers(build("inceptionv3", 75))
    assert backbone is not None
    norms = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == SCRATCH_BN_MOMENTUM for layer in norms)


def test_a_bfloat16_run_serves_a_float32_model_and_leaves_the_default_policy_alone(fer_csv: Path, tmp_path: Path) -> None:
    """A CPU with bf16 instructions (or a GPU) trains in mixed_bfloat16; TFLite has no bf16 kernels, and a server
    without them would emulate bf16, so the model folder is written in float32."""
    import keras

    from engine.classifier import load_classifier
    from engine.preprocess import preprocess_faces

    before = keras.mixed_precision.global_policy().name
    assert main(["--arch", "mini_xception", "--data", str(fer_csv), "--name", "bf16", "--precision", "mixed_bfloat16",
                 "--models-dir", str(tmp_path / "models"), "--runs-dir", str(tmp_path / "runs"), "--cache-dir",
                 str(tmp_path / "cache"), "--batch-size", "16", "--warmup-epochs", "0", "--epochs", "1"]) == 0
    assert keras.mixed_precision.global_policy().name == before
    folder = tmp_path / "models" / "bf16"
    card = read_card(folder)
    assert card.training["precision"] == "mixed_bfloat16" and set(card.files) == {"keras", "tflite"}
    saved = keras.models.load_model(folder / "model.keras", compile=False)
    assert {layer.dtype_policy.name for layer in saved._flatten_layers(include_self=True)} == {"float32"}
    faces = list(np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8))
    batch = preprocess_faces(faces, card.input_size, card.preprocessing)
    np.testing.assert_allclose(load_classifier(folder, "tflite").predict_array(batch),
                               load_classifier(folder, "keras").predict_array(batch), atol=1e-4)
