"""Serving export: a Keras model to TFLite, optionally with dynamic-range quantisation."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

log = logging.getLogger(__name__)


def export_tflite(model: keras.Model, path: Path, quantize: bool = True) -> Path:
    """Write `model` as a TFLite flatbuffer (weights int8 with float activations when `quantize`)."""
    with tempfile.TemporaryDirectory() as tmp:
        # A SavedModel round trip converts every Keras 3 model the same way, functional or nested.
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        flatbuffer = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    log.info("wrote %s (%.1f MB, quantised=%s)", path, len(flatbuffer) / 1e6, quantize)
    return path
