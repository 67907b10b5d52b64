"""Emotion classifiers rebuilt from a model folder's card: TFLite (serving default) or Keras, batched."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.card import ModelCard, ModelCardError, read_card
from engine.preprocess import preprocess_faces
from engine.types import Prediction

log = logging.getLogger(__name__)
BATCH_BUCKETS: tuple[int, ...] = (1, 8, 32)  # inputs are padded to one of these to avoid re-planning


class EmotionClassifier(Protocol):
    """Predicts class probabilities for grayscale (or BGR) face crops of any size."""

    card: ModelCard

    def predict(self, crops: list[np.ndarray]) -> list[Prediction]: ...


def _bucket(n: int) -> int:
    return next((b for b in BATCH_BUCKETS if n <= b), BATCH_BUCKETS[-1])


def _to_predictions(card: ModelCard, probs: np.ndarray) -> list[Prediction]:
    probs = probs.astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)  # quantised runtimes can drift from an exact sum of 1
    return [Prediction(card.labels, tuple(float(p) for p in row)) for row in probs]


class _Batched:
    """Shared batching: preprocess once, run in bucket-sized chunks, one inference at a time."""

    card: ModelCard

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def predict(self, crops: list[np.ndarray]) -> list[Prediction]:
        if len(crops) == 0:
            return []
        batch = preprocess_faces(crops, self.card.input_size, self.card.preprocessing)
        return _to_predictions(self.card, self.predict_array(batch))

    def predict_array(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) for an already preprocessed float32 batch."""
        out = []
        for start in range(0, len(batch), BATCH_BUCKETS[-1]):
            chunk = batch[start : start + BATCH_BUCKETS[-1]]
            size = _bucket(len(chunk))
            padded = chunk if len(chunk) == size else np.concatenate(
                [chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), np.float32)])
            with self._lock:
                out.append(self._run(padded)[: len(chunk)])
        return np.concatenate(out)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def tflite_interpreter_class() -> type:
    """LiteRT's interpreter (no TensorFlow import), else TensorFlow's deprecated tf.lite one."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter  # type: ignore[no-any-return]
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter  # type: ignore[no-any-return]


class TFLiteClassifier(_Batched):
    """A TFLite flatbuffer with one interpreter per batch bucket."""

    def __init__(self, card: ModelCard, path: Path, threads: int = 0) -> None:
        super().__init__()
        self.card = card
        self._model = path.read_bytes()
        self._threads = threads or (os.cpu_count() or 1)
        self._interpreters: dict[int, object] = {}
        self._interpreter_class = tflite_interpreter_class()

    def _interpreter(self, size: int):  # type: ignore[no-untyped-def]
        interp = self._interpreters.get(size)
        if interp is None:
            interp = self._interpreter_class(model_content=self._model, num_threads=self._threads)
            index = interp.get_input_details()[0]["index"]
            interp.resize_tensor_input(index, [size, self.card.input_size, self.card.input_size, 1])
            interp.allocate_tensors()
            self._interpreters[size] = interp
        return interp

    def _run(self, batch: np.ndarray) -> np.ndarray:
        interp = self._interpreter(len(batch))
        interp.set_tensor(interp.get_input_details()[0]["index"], batch)
        interp.invoke()
        return np.array(interp.get_tensor(interp.get_output_details()[0]["index"]))


class KerasClassifier(_Batched):
    """A `.keras` model behind a traced function (eager per-call Keras is ~15x slower)."""

    def __init__(self, card: ModelCard, path: Path) -> None:
        super().__init__()
        import keras
        import tensorflow as tf

        self.card = card
        self.model = keras.models.load_model(path, compile=False)
        self._fn = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._fn(batch))


def load_classifier(folder: Path, runtime: str = "", threads: int = 0) -> EmotionClassifier:
    """The classifier a model folder describes, on its card's runtime unless `runtime` names another."""
    card = read_card(folder)
    runtime = runtime or card.runtime
    if runtime not in card.files:
        raise ModelCardError(f"{folder}: no {runtime!r} file in the card (has: {', '.join(card.files)})")
    path = folder / card.files[runtime]
    if not path.is_file():
        raise ModelCardError(f"{folder}: the card names {card.files[runtime]} but the file is missing")
    log.info("loading %s (%s, %s)", card.name, card.architecture, runtime)
    if runtime == "tflite":
        return TFLiteClassifier(card, path, threads)
    return KerasClassifier(card, path)
