"""Rebuild trainable Keras weights of a shipped InceptionV3 from its TFLite file, to continue training from it.

The InceptionV3 folder ships TFLite only (its Keras weights are too large for the repository). TFLite folds each
batch norm into the convolution before it: kernel W/s and bias beta - mean/s, with s = sqrt(var + eps). Keras's
InceptionV3 has batch norms without a scale, so the folded kernel goes back into the convolution as it is and the
batch norm gets variance 1 - eps (s = 1). The mean is measured: each convolution's output averaged over Training
faces; with it as moving mean and beta = bias + mean, inference gives exactly the TFLite network, and a training
step, which normalises with the batch's statistics, starts where the TFLite network is (the batch norm does not see
the kernel's scale). Dynamic-range weights are int8 with a scale per channel; they are dequantised, so the rebuilt
network matches the TFLite one to within that rounding. The converter also folds the input's rescaling into the
first convolution; that is undone too.

    python -m training.unfold models/inceptionv3 --data <your copy of fer2013.csv.gz> --out inceptionv3.keras

`python -m training.train --arch inceptionv3 --init inceptionv3.keras ...` then continues from it.
"""
from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import keras
import numpy as np

from engine.card import read_card
from engine.classifier import tflite_interpreter_class
from training import zoo
from training.export import representative_faces

log = logging.getLogger(__name__)

_CONV_NAME = re.compile(r"/conv2d(?:_(\d+))?_\d+/convolution")


def _dequantised(interpreter, detail: dict) -> np.ndarray:  # type: ignore[no-untyped-def]
    values = interpreter.get_tensor(detail["index"])
    if values.dtype == np.float32:
        return values
    q = detail["quantization_parameters"]
    shape = [1] * values.ndim
    shape[q["quantized_dimension"]] = -1
    scales = np.asarray(q["scales"], np.float32).reshape(shape)
    zeros = np.asarray(q["zero_points"], np.float32).reshape(shape)
    return (values.astype(np.float32) - zeros) * scales


def tflite_layers(path: Path) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    """The folded (kernel HWIO, bias) of every convolution, keyed by its creation index in Keras's InceptionV3
    (`conv2d`, `conv2d_1`, ...), and the head's (kernel, bias)."""
    interpreter = tflite_interpreter_class()(model_path=str(path))
    interpreter.allocate_tensors()
    details = interpreter.get_tensor_details()
    convs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    head = None
    for op in interpreter._get_ops_details():
        inputs = [details[i] for i in op["inputs"] if i >= 0]
        if op["op_name"] == "CONV_2D":
            kernel, bias = inputs[1], inputs[2]
            match = _CONV_NAME.search(bias["name"] if inputs[1]["dtype"] == np.float32 else kernel["name"])
            if match is None:
                raise ValueError(f"{path}: cannot tell which InceptionV3 convolution {kernel['name']!r} is")
            index = int(match.group(1) or 0)
            w, b = _dequantised(interpreter, kernel).transpose(1, 2, 3, 0), _dequantised(interpreter, bias)
            if "gray_to_rgb" in inputs[0]["name"]:
                # the converter folded the [0, 1] -> [-1, 1] rescaling (x * 2 - 1) into the first convolution,
                # which has no padding: kernel 2W and bias b - sum(W)
                w = w / 2.0
                b = b + w.sum(axis=(0, 1, 2))
            convs[index] = (w, b)
        elif op["op_name"] == "FULLY_CONNECTED":
            head = (_dequantised(interpreter, inputs[1]).T, _dequantised(interpreter, inputs[2]))
    if head is None:
        raise ValueError(f"{path}: no dense head found")
    return convs, head


def _by_creation(layers_: list[keras.layers.Layer], kind: type) -> list[keras.layers.Layer]:
    def index(layer: keras.layers.Layer) -> int:
        tail = layer.name.rsplit("_", 1)
        return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0

    return sorted((la for la in layers_ if isinstance(la, kind)), key=index)


def unfold(folder: Path, faces: np.ndarray, batch_size: int = 64) -> keras.Model:
    """A Keras InceptionV3 (inference equal to `folder`'s TFLite) with batch-norm means measured on `faces`."""
    card = read_card(folder)
    if card.architecture != "inceptionv3" or "tflite" not in card.files:
        raise SystemExit(f"{folder}: not an InceptionV3 model folder with a TFLite file")
    convs, (head_kernel, head_bias) = tflite_layers(folder / card.files["tflite"])
    model = zoo.build_inceptionv3(card.input_size, len(card.labels))
    backbone = model.get_layer("inception_v3")
    conv_layers = _by_creation(backbone.layers, keras.layers.Conv2D)
    norms = _by_creation(backbone.layers, keras.layers.BatchNormalization)
    if len(conv_layers) != len(convs) or len(norms) != len(convs):
        raise ValueError(f"{folder}: {len(convs)} convolutions in the TFLite file, {len(conv_layers)} in InceptionV3")
    for i, (conv, norm) in enumerate(zip(conv_layers, norms)):
        kernel, bias = convs[i]
        if tuple(conv.kernel.shape) != kernel.shape:
            raise ValueError(f"{folder}: convolution {i} is {kernel.shape}, InceptionV3's {tuple(conv.kernel.shape)}")
        conv.set_weights([kernel])
        channels = kernel.shape[-1]
        norm.set_weights([bias, np.zeros(channels, np.float32), np.full(channels, 1.0 - norm.epsilon, np.float32)])
    model.get_layer("head_softmax").set_weights([head_kernel, head_bias])
    # every convolution's mean output over the faces, the batch norms unchanged meanwhile (inference stays exact)
    outputs = keras.Model(backbone.inputs, [conv.output for conv in conv_layers])
    to_backbone = keras.Model(model.inputs, model.get_layer("to_minus1_1").output)
    sums = [np.zeros(conv.filters, np.float64) for conv in conv_layers]
    count = 0
    for start in range(0, len(faces), batch_size):
        batch = to_backbone.predict_on_batch(faces[start:start + batch_size])
        for total, out in zip(sums, outputs.predict_on_batch(batch)):
            total += np.asarray(out, np.float64).mean(axis=(1, 2)).sum(axis=0)
        count += len(batch)
    for norm, total in zip(norms, sums):
        beta, _, variance = norm.get_weights()
        mean = (total / count).astype(np.float32)
        norm.set_weights([beta + mean, mean, variance])
    log.info("rebuilt %d convolutions of %s; batch-norm means from %d faces", len(convs), folder, count)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.unfold", description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="an InceptionV3 model folder with a TFLite file")
    p.add_argument("--data", type=Path, required=True, help="FER2013 CSV: Training faces for the batch-norm means")
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--out", type=Path, required=True, help="the .keras file to write")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    card = read_card(args.model)
    model = unfold(args.model, representative_faces(args.data, card.input_size, args.samples))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
