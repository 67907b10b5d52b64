"""A trained model as a teacher: its probabilities on each augmented training face mixed into the targets.

Offline, a large network (InceptionV3) starts from random weights and learns FER2013 slowly on a CPU; a shipped
model's soft outputs give it a denser signal per face than the one-hot label (knowledge distillation, Hinton et
al. 2015). The teacher sees the very augmented face the student sees, resized to its own input.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.card import read_card
from engine.classifier import load_classifier
from engine.types import EMOTIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Teacher:
    """A loaded teacher: a batched function (n, size, size, 1) faces -> (n, 7) probabilities, and that size."""

    name: str
    predict: Callable[[np.ndarray], np.ndarray]
    input_size: int
    runtime: str


def load_teacher(folder: Path) -> Teacher:
    """A model folder as a teacher, checked to read faces as the student does and to give the same labels. It runs on
    its TFLite file through the engine's classifier where it has one (one thread, beside the training step: about
    half the time of a Keras call on a CPU), else on its Keras model (any backend, a GPU included)."""
    card = read_card(folder)
    if tuple(card.labels) != EMOTIONS:
        raise ValueError(f"teacher {folder}: its labels {list(card.labels)} are not FER2013's {list(EMOTIONS)}")
    if card.preprocessing != "gray-unit-v1":
        raise ValueError(f"teacher {folder}: preprocessing {card.preprocessing!r}; training feeds gray-unit-v1 faces")
    runtimes = [r for r in ("tflite", "keras") if r in card.files and (folder / card.files[r]).is_file()]
    if "tflite" in runtimes and not _litert_available():
        runtimes.remove("tflite")
    if not runtimes:
        raise ValueError(f"teacher {folder}: no model file it can run (needs model.keras, or model.tflite with LiteRT)")
    log.info("teacher %s (%s, %dx%d, %s)", card.name, card.architecture, card.input_size, card.input_size, runtimes[0])
    if runtimes[0] == "tflite":
        return Teacher(card.name, load_classifier(folder, "tflite", threads=1).predict_array,  # type: ignore[attr-defined]
                       card.input_size, "tflite")
    import keras

    model = keras.models.load_model(folder / card.files["keras"], compile=False)
    model.trainable = False
    lock = threading.Lock()  # batches are made on several threads; JAX's predict donates its state buffers per call

    def predict(faces: np.ndarray) -> np.ndarray:
        with lock:
            return np.asarray(model.predict_on_batch(faces))

    return Teacher(card.name, predict, card.input_size, "keras")


def _litert_available() -> bool:
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True
