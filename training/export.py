"""Serving export: a Keras model to TFLite, float32, with dynamic-range or with full-integer (int8) quantisation.

python -m training.export models/<name> --out DIR --quantize int8 --data ../shared/data/fer2013.csv.gz

The command writes a copy of the model folder with the new `model.tflite` (the card says how it was quantised and
keeps only the figures of the Keras runtime, which did not change). Measure the copy with
`python -m benchmarks.classify --models-dir <parent of DIR>` and
`python -m training.evaluate DIR --data ... --split PublicTest` before serving it.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from engine.card import read_card, write_card
from engine.preprocess import preprocess_faces
from training.precision import float32_copy

log = logging.getLogger(__name__)
QUANTIZATIONS = ("none", "dynamic", "int8")


def export_tflite(model: keras.Model, path: Path, quantize: bool | str = True,
                  representative: np.ndarray | None = None) -> Path:
    """Write `model` as a TFLite flatbuffer.

    `quantize`: "none" (float32), "dynamic" (int8 weights, float activations; True means this) or "int8" (weights
    and activations int8, calibrated on `representative`, a preprocessed float batch; inputs and outputs stay float).
    """
    mode = ("dynamic" if quantize else "none") if isinstance(quantize, bool) else quantize
    if mode not in QUANTIZATIONS:
        raise ValueError(f"unknown quantisation {quantize!r}; choose one of {QUANTIZATIONS}")
    if mode == "int8" and (representative is None or len(representative) == 0):
        raise ValueError("int8 quantisation needs representative faces to calibrate on")
    model = float32_copy(model)  # TFLite has no bfloat16 kernels: a mixed-precision model converts as float32
    with tempfile.TemporaryDirectory() as tmp:
        # A SavedModel round trip converts every Keras 3 model the same way, functional or nested.
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if mode != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "int8":
            assert representative is not None

            def samples() -> Iterator[list[np.ndarray]]:
                for i in range(len(representative)):
                    yield [representative[i : i + 1].astype(np.float32)]

            converter.representative_dataset = samples
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        flatbuffer = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    log.info("wrote %s (%.2f MB, quantisation %s)", path, len(flatbuffer) / 1e6, mode)
    return path


def representative_faces(data: Path, size: int, samples: int, seed: int = 0) -> np.ndarray:
    """`samples` preprocessed faces drawn at random from the Training split (never from the test splits)."""
    from training.data import load_dataset

    train = load_dataset(data, Path("data/cache"))["Training"]
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(train.images), min(samples, len(train.images)), replace=False)
    return preprocess_faces(train.images[picked], size)


def export_folder(source: Path, out: Path, quantize: str, data: Path | None, samples: int) -> Path:
    """A copy of the model folder `source` at `out` whose TFLite file is exported with `quantize`."""
    card = read_card(source)
    if "keras" not in card.files:
        raise SystemExit(f"{source}: no Keras weights to export from")
    model = keras.models.load_model(source / card.files["keras"], compile=False)
    representative = None
    if quantize == "int8":
        if data is None:
            raise SystemExit("--quantize int8 needs --data (a FER2013 CSV) for calibration faces")
        representative = representative_faces(data, card.input_size, samples)
    if out.resolve() == source.resolve():
        raise SystemExit("--out must be a new folder; the source stays as it is")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / card.files["keras"], out / "model.keras")
    export_tflite(model, out / "model.tflite", quantize, representative)
    keras_only = {k: v for k, v in card.metrics.items() if k.endswith("_keras") or "_keras_" in k}
    write_card(out, replace(
        card, name=out.name, default=False, files={"keras": "model.keras", "tflite": "model.tflite"}, runtime="tflite",
        metrics=keras_only, training={**card.training, "tflite": quantize, "exported_from": card.name},
        description=f"{card.description} (TFLite re-exported by training.export, quantisation {quantize})",
    ))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="a model folder with Keras weights")
    p.add_argument("--out", type=Path, required=True, help="the new model folder")
    p.add_argument("--quantize", choices=QUANTIZATIONS, default="int8")
    p.add_argument("--data", type=Path, default=None, help="FER2013 CSV: calibration faces for int8 (Training split)")
    p.add_argument("--samples", type=int, default=500)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = export_folder(args.model, args.out, args.quantize, args.data, args.samples)
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
