"""Training batches for Keras `fit` on any backend: shuffled, augmented, optionally distilled, reproducible per epoch."""
from __future__ import annotations

from typing import Any

import keras
import numpy as np

from training.augment import AugmentConfig, draw, render
from training.distill import Teacher


class TrainBatches(keras.utils.PyDataset):
    """Batch `i` of epoch `e` is drawn from its own generator (seed, e, i): the same run resumed at epoch `e` sees the
    batches it would have seen, never the first epochs' again, and worker threads need no shared random state."""

    def __init__(self, images: np.ndarray, targets: np.ndarray, weights: np.ndarray, *, size: int, batch_size: int,
                 seed: int, epoch: int = 0, augment: AugmentConfig | None = None, teacher: Teacher | None = None,
                 teacher_weight: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if images.ndim == 4:
            images = images[..., 0]
        self.images, self.targets, self.weights = images, targets.astype(np.float32), weights.astype(np.float32)
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.augment = augment or AugmentConfig()
        self.teacher, self.teacher_weight = teacher, teacher_weight
        self.epoch = epoch
        self.order = self._order()

    def _order(self) -> np.ndarray:
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if n >= self.batch_size else 1

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        rng = np.random.default_rng((self.seed, self.epoch, index))
        faces = self.images[rows]
        d = draw(len(rows), rng, self.augment, faces.shape[1])
        targets = self.targets[rows]
        if self.teacher is not None:
            view = render(faces, d, self.teacher.input_size)
            probabilities = self.teacher.predict(view).astype(np.float32)
            targets = (1.0 - self.teacher_weight) * targets + self.teacher_weight * probabilities
        return render(faces, d, self.size), targets, self.weights[rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()
