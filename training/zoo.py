"""Named architectures in one table: InceptionV3 transfer, the 4-conv CNN baseline and a mini-Xception."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Architecture:
    """How to build one architecture and the input it expects."""

    name: str
    build: Callable[..., keras.Model]
    default_input: int
    min_input: int
    description: str
    transfer: bool = False  # whether --weights imagenet|PATH applies


def _head(x: keras.KerasTensor, n_classes: int, dropout: float) -> keras.KerasTensor:
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(n_classes, activation="softmax", name="head_softmax", dtype="float32")(x)


def inception_backbone(size: int, weights: str | None) -> keras.Model:
    """InceptionV3 without its top; `weights` is "imagenet" or None (a file is loaded by the caller)."""
    return keras.applications.InceptionV3(include_top=False, weights=weights, input_shape=(size, size, 3))


# Keras builds InceptionV3's batch norms with momentum 0.99, right for fine-tuning ImageNet statistics; from random
# weights the statistics move fast and lag far behind the network, and evaluation with them diverged (validation
# losses in the hundreds). 0.9 follows them within a few dozen steps.
SCRATCH_BN_MOMENTUM = 0.9


def build_inceptionv3(size: int = 75, n_classes: int = 7, weights: str = "none", dropout: float = 0.4) -> keras.Model:
    """InceptionV3 on grayscale faces: the channel repeated to RGB, scaled to [-1, 1], a new softmax head."""
    if size < 75:
        raise ValueError("InceptionV3 needs an input of at least 75x75")
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Concatenate(name="gray_to_rgb")([inputs, inputs, inputs])
    x = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(x)  # [0,1] -> [-1,1], InceptionV3's range
    backbone = inception_backbone(size, "imagenet" if weights == "imagenet" else None)
    backbone.name = "inception_v3"
    if weights == "none":
        for layer in backbone.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = SCRATCH_BN_MOMENTUM
    elif weights != "imagenet":
        load_backbone_weights(backbone, Path(weights))
    x = backbone(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="inceptionv3")


def load_backbone_weights(backbone: keras.Model, path: Path) -> None:
    """Backbone weights from a `.weights.h5` file, or from the `inception_v3` layer of a saved `.keras` model."""
    if not path.exists():
        raise FileNotFoundError(f"weights file {path} does not exist")
    if path.suffix == ".keras":
        source = keras.models.load_model(path, compile=False).get_layer("inception_v3")
        backbone.set_weights(source.get_weights())
    else:
        backbone.load_weights(path)
    log.info("loaded backbone weights from %s", path)


def build_cnn4(size: int = 48, n_classes: int = 7, weights: str = "none", dropout: float = 0.25) -> keras.Model:
    """The 4-conv + 2-dense CNN of the hobby projects (conv 64-128-512-512, dense 256-512, ~4.5 M parameters)."""
    inputs = keras.Input((size, size, 1), name="face")
    x = inputs
    for filters, kernel in ((64, 3), (128, 5), (512, 3), (512, 3)):
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    for units in (256, 512):
        x = layers.Dense(units, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head_softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn4")


def _xception_block(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    residual = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization()(residual)
    for i in range(2):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        if i == 0:
            x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    return layers.Add()([x, residual])


def build_mini_xception(
    size: int = 48, n_classes: int = 7, weights: str = "none", dropout: float = 0.3,
    widths: tuple[int, ...] = (32, 64, 128, 256), stem: tuple[int, int] = (16, 32), name: str = "mini_xception",
) -> keras.Model:
    """A mini-Xception (Arriaga et al. 2017) with wider blocks: depthwise-separable residual blocks, GAP head."""
    inputs = keras.Input((size, size, 1), name="face")
    x = inputs
    for filters in stem:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    for filters in widths:
        x = _xception_block(x, filters)
    x = layers.Activation("relu")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name=name)


def build_mini_xception_lean(size: int = 48, n_classes: int = 7, weights: str = "none",
                             dropout: float = 0.3) -> keras.Model:
    """mini_xception with a stem of 8 and 16 channels instead of 16 and 32: its second convolution, over the whole
    48x48 face, is a third of mini_xception's work; the blocks after it are the same (so --init can carry them over)."""
    return build_mini_xception(size, n_classes, weights, dropout, stem=(8, 16), name="mini_xception_lean")


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("inceptionv3", build_inceptionv3, 75, 75, "InceptionV3 backbone, new head", transfer=True),
        Architecture("cnn4", build_cnn4, 48, 32, "4-conv + 2-dense CNN baseline"),
        Architecture("mini_xception", build_mini_xception, 48, 32, "fast mini-Xception baseline"),
        Architecture("mini_xception_lean", build_mini_xception_lean, 48, 32, "mini_xception with a narrower stem"),
    )
}


def build(name: str, size: int | None = None, n_classes: int = 7, weights: str = "none") -> keras.Model:
    """A fresh model of the named architecture."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}")
    arch = ARCHITECTURES[name]
    if weights != "none" and not arch.transfer:
        raise ValueError(f"{name} has no pretrained backbone; use --weights none")
    return arch.build(size=size or arch.default_input, n_classes=n_classes, weights=weights)


def copy_weights(model: keras.Model, source: Path) -> int:
    """Start `model` from the weights of a saved model built by the same code (a .keras file or a model folder with
    model.keras): layer by layer, in order, every layer whose weights have the same shapes. The input size may
    differ (no layer's weights depend on it), and so may some widths: a narrower stem starts fresh while the layers
    after it keep what they learned. Returns the number of layers copied."""
    path = source / "model.keras" if source.is_dir() else source
    saved = keras.models.load_model(path, compile=False)
    if len(saved.layers) != len(model.layers):
        raise ValueError(f"{path} has {len(saved.layers)} layers, this {model.name} {len(model.layers)}: its weights do not fit")
    copied = with_weights = 0
    for mine, theirs in zip(model.layers, saved.layers):
        if not mine.weights:
            continue
        with_weights += 1
        if [w.shape for w in mine.get_weights()] == [w.shape for w in theirs.get_weights()]:
            mine.set_weights(theirs.get_weights())
            copied += 1
    if not copied:
        raise ValueError(f"no layer of {path} has the shapes of this {model.name}: its weights do not fit")
    log.info("started from the weights of %s: %d of %d layers copied, the rest fresh", path, copied, with_weights)
    return copied


def backbone_layers(model: keras.Model) -> keras.Model | None:
    """The pretrained backbone inside a transfer model, or None."""
    try:
        return model.get_layer("inception_v3")
    except ValueError:
        return None


def set_trainable_top(backbone: keras.Model, first_trainable: str = "mixed7") -> None:
    """Unfreeze the backbone from `first_trainable` on, keeping every BatchNormalization frozen."""
    backbone.trainable = True
    trainable = False
    for layer in backbone.layers:
        trainable = trainable or layer.name == first_trainable
        layer.trainable = trainable and not isinstance(layer, layers.BatchNormalization)
