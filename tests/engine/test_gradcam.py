from pathlib import Path

import numpy as np
import pytest

from engine.classifier import KerasClassifier, load_classifier
from engine.gradcam import GradCam, last_conv_layer, overlay


@pytest.fixture(scope="module")
def keras_clf(tiny_models_dir: Path) -> KerasClassifier:
    clf = load_classifier(tiny_models_dir / "tiny", "keras")
    assert isinstance(clf, KerasClassifier)
    return clf


def test_heatmap_has_the_input_size_and_unit_range(keras_clf: KerasClassifier) -> None:
    face = np.random.default_rng(0).random((48, 48, 1), dtype=np.float32)
    heat = GradCam(keras_clf.model).heatmap(face, class_index=3)
    assert heat.shape == (48, 48) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() <= 1 and np.isfinite(heat).all()


def test_heatmap_depends_on_the_class(keras_clf: KerasClassifier) -> None:
    face = np.random.default_rng(1).random((48, 48, 1), dtype=np.float32)
    cam = GradCam(keras_clf.model)
    maps = [cam.heatmap(face, k) for k in range(7)]
    assert any(not np.allclose(maps[0], m) for m in maps[1:])


def test_the_nested_inception_backbone_is_the_explained_layer() -> None:
    from training.zoo import build

    assert last_conv_layer(build("inceptionv3", 75)).name == "inception_v3"


def test_overlay_is_a_colour_image_of_the_face_size() -> None:
    out = overlay(np.full((90, 90), 128, np.uint8), np.linspace(0, 1, 48 * 48, dtype=np.float32).reshape(48, 48))
    assert out.shape == (90, 90, 3) and out.dtype == np.uint8
