"""Grad-CAM: where in a face the model looked for a class (Selvaraju et al. 2017)."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def last_conv_layer(model: Any) -> Any:
    """The last layer with a spatial (4-D) output: a conv block, or a nested backbone such as InceptionV3."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        if shape is not None and len(layer.output.shape) == 4:
            return layer
    raise ValueError(f"{model.name} has no convolutional layer to explain")


class GradCam:
    """Heat maps for one Keras classifier; the gradient model is built once."""

    def __init__(self, model: Any) -> None:
        import keras
        import tensorflow as tf

        self._tf = tf
        target = last_conv_layer(model)
        self._grad_model = keras.Model(model.inputs, [target.output, model.output])

    def heatmap(self, face: np.ndarray, class_index: int) -> np.ndarray:
        """A (h, w) map in [0, 1] at the input's size for one preprocessed face of shape (size, size, 1)."""
        tf = self._tf
        x = tf.convert_to_tensor(face[np.newaxis].astype(np.float32))
        with tf.GradientTape() as tape:
            features, probs = self._grad_model(x, training=False)
            score = probs[:, class_index]
        grads = tape.gradient(score, features)
        weights = tf.reduce_mean(grads, axis=(1, 2))  # one weight per channel
        cam = tf.nn.relu(tf.reduce_sum(features * weights[:, tf.newaxis, tf.newaxis, :], axis=-1))[0].numpy()
        cam = cv2.resize(cam, (face.shape[1], face.shape[0]), interpolation=cv2.INTER_LINEAR)
        peak = float(cam.max())
        return (cam / peak if peak > 0 else cam).astype(np.float32)


def overlay(face_gray: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heat map (JET colours) blended over a grayscale face, as BGR uint8 at the face's size."""
    heat = cv2.resize(heat, (face_gray.shape[1], face_gray.shape[0]))
    coloured = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
    base = cv2.cvtColor(face_gray, cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(coloured, alpha, base, 1 - alpha, 0)
