"""A trained model as a teacher: its probabilities on each augmented training face mixed into the targets.

Offline, a large network (InceptionV3) starts from random weights and learns FER2013 slowly on a CPU; a shipped
model's soft outputs give it a denser signal per face than the one-hot label (knowledge distillation, Hinton et
al. 2015). The teacher sees the very augmented face the student sees, resized to its own input.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.card import read_card
from engine.types import EMOTIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Teacher:
    """A loaded teacher: its Keras model (frozen) and the square input it expects."""

    name: str
    model: Any  # keras.Model
    input_size: int


def load_teacher(folder: Path) -> Teacher:
    """The Keras model of a model folder, checked to read faces as the student does and to give the same labels."""
    import keras

    card = read_card(folder)
    if tuple(card.labels) != EMOTIONS:
        raise ValueError(f"teacher {folder}: its labels {list(card.labels)} are not FER2013's {list(EMOTIONS)}")
    if card.preprocessing != "gray-unit-v1":
        raise ValueError(f"teacher {folder}: preprocessing {card.preprocessing!r}; training feeds gray-unit-v1 faces")
    if "keras" not in card.files or not (folder / card.files["keras"]).is_file():
        raise ValueError(f"teacher {folder}: no Keras weights (a teacher needs the model.keras file, not TFLite)")
    model = keras.models.load_model(folder / card.files["keras"], compile=False)
    model.trainable = False
    log.info("teacher %s (%s, %dx%d)", card.name, card.architecture, card.input_size, card.input_size)
    return Teacher(card.name, model, card.input_size)


def mix_teacher(teacher: Teacher, weight: float):  # type: ignore[no-untyped-def]
    """A tf function (augmented faces, targets) -> targets with `weight` of the teacher's probabilities mixed in."""
    import tensorflow as tf

    if not 0.0 < weight <= 1.0:
        raise ValueError(f"--teacher-weight must be in (0, 1], not {weight}")
    size = teacher.input_size

    def mix(faces: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        if faces.shape[1] != size:
            faces = tf.image.resize(faces, (size, size), method="area" if faces.shape[1] > size else "bilinear")
        probabilities = tf.cast(teacher.model(faces, training=False), targets.dtype)
        return (1.0 - weight) * targets + weight * probabilities

    return mix
