"""Read FER2013 (Kaggle CSV or image folders) into typed splits, with an on-disk cache and FER+ labels."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from engine.types import EMOTIONS

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
REQUIRED_COLUMNS: tuple[str, ...] = ("emotion", "pixels", "Usage")
IMAGE_SIZE = 48
# FER+ vote columns, in the file's order, and the FER2013 class each maps to (None: dropped).
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)
FERPLUS_TO_FER: dict[str, str | None] = {
    "neutral": "Neutral", "happiness": "Happy", "surprise": "Surprise", "sadness": "Sad", "anger": "Angry",
    "disgust": "Disgust", "fear": "Fear", "contempt": "Disgust", "unknown": None, "NF": None,
}
# Folder names users commonly have for the seven classes.
FOLDER_ALIASES: dict[str, str] = {
    "angry": "Angry", "anger": "Angry", "disgust": "Disgust", "disgusted": "Disgust", "fear": "Fear",
    "fearful": "Fear", "happy": "Happy", "happiness": "Happy", "sad": "Sad", "sadness": "Sad",
    "surprise": "Surprise", "surprised": "Surprise", "neutral": "Neutral",
}
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm"})


class DatasetError(ValueError):
    """The dataset is malformed; the message names the file and row."""


@dataclass(frozen=True)
class Split:
    """One split: images (n, 48, 48) uint8, hard labels (n,) and optional soft labels (n, 7)."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    soft_labels: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(EMOTIONS))
        return {label: int(c) for label, c in zip(EMOTIONS, counts)}


def parse_pixels(text: str, row: int) -> np.ndarray:
    """One row's space-separated pixel string as a 48x48 uint8 image."""
    try:
        values = np.array(text.split(), dtype=np.int32)
    except (AttributeError, ValueError) as exc:
        raise DatasetError(f"row {row}: pixels are not space-separated integers") from exc
    if values.size != IMAGE_SIZE * IMAGE_SIZE:
        raise DatasetError(f"row {row}: expected {IMAGE_SIZE * IMAGE_SIZE} pixels, found {values.size}")
    if values.min() < 0 or values.max() > 255:
        raise DatasetError(f"row {row}: pixel values must lie in 0..255")
    return values.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def _validate_frame(df: pd.DataFrame, path: Path) -> None:
    import pandas as pd

    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {missing}; expected columns {list(REQUIRED_COLUMNS)}")
    labels = pd.to_numeric(df["emotion"], errors="coerce")
    bad = labels.isna() | ~labels.isin(range(len(EMOTIONS)))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetError(f"{path}: row {row}: unknown emotion label {df['emotion'].iloc[row]!r} (expected 0..6)")
    unknown = ~df["Usage"].isin(SPLITS)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DatasetError(f"{path}: row {row}: unknown Usage {df['Usage'].iloc[row]!r} (expected one of {SPLITS})")


def read_fer_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (n, 48, 48) uint8, labels (n,) int64 and usage (n,) str from a Kaggle-format CSV."""
    import pandas as pd  # only the CSV needs pandas; a bundle reads with numpy alone

    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype={"pixels": str, "Usage": str})
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable CSV ({exc})") from exc
    _validate_frame(df, path)
    images = np.stack([parse_pixels(text, i) for i, text in enumerate(df["pixels"].tolist())]) if len(df) else (
        np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8))
    return images, df["emotion"].to_numpy(dtype=np.int64), df["Usage"].to_numpy(dtype=str)


def ferplus_soft_labels(path: Path, n_rows: int) -> np.ndarray:
    """FER+ votes mapped onto FER2013's classes as distributions (n, 7); rows with no usable vote are NaN."""
    import pandas as pd

    df = pd.read_csv(path)
    missing = [c for c in FERPLUS_COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing FER+ column(s) {missing}")
    if len(df) != n_rows:
        raise DatasetError(f"{path}: {len(df)} rows, but the FER2013 file has {n_rows}")
    votes = np.zeros((n_rows, len(EMOTIONS)), dtype=np.float32)
    for column in FERPLUS_COLUMNS:
        target = FERPLUS_TO_FER[column]
        if target is not None:
            votes[:, EMOTIONS.index(target)] += df[column].to_numpy(dtype=np.float32)
    totals = votes.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, votes / totals, np.nan).astype(np.float32)


def _cache_file(path: Path, cache_dir: Path) -> Path:
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / f"fer2013-{key}.npz"


def load_fer2013(path: Path, cache_dir: Path | None = None, ferplus: Path | None = None) -> dict[str, Split]:
    """The three FER2013 splits from the CSV, cached as .npz so that a reload takes seconds."""
    cache = _cache_file(path, cache_dir) if cache_dir and path.exists() else None
    if cache is not None and cache.exists():
        with np.load(cache) as npz:
            images, labels, usage = npz["images"], npz["labels"], npz["usage"]
        log.info("loaded %d rows from cache %s", len(labels), cache)
    else:
        log.info("parsing %s (about a minute for the full dataset)", path)
        images, labels, usage = read_fer_csv(path)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, images=images, labels=labels, usage=usage)
    soft = ferplus_soft_labels(ferplus, len(labels)) if ferplus else None
    return {
        name: Split(name, images[usage == name], labels[usage == name], None if soft is None else soft[usage == name])
        for name in SPLITS
    }


def _folder_label(name: str, folder: Path) -> int:
    label = FOLDER_ALIASES.get(name.lower())
    if label is None:
        raise DatasetError(f"{folder}: unknown emotion folder {name!r}; expected one of {sorted(FOLDER_ALIASES)}")
    return EMOTIONS.index(label)


def read_image_folder(root: Path, name: str) -> Split:
    """A split from `root/<emotion>/*.jpg`, faces converted to 48x48 grayscale."""
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        label = _folder_label(class_dir.name, root)
        for file in sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise DatasetError(f"{file}: not a readable image")
            if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
                image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            images.append(image)
            labels.append(label)
    if not images:
        raise DatasetError(f"{root}: no images found under <emotion>/ folders")
    return Split(name, np.stack(images), np.array(labels, dtype=np.int64))


def load_folders(root: Path) -> dict[str, Split]:
    """The `train/` and `test/` layout: train becomes Training; test serves as PublicTest and PrivateTest."""
    train = read_image_folder(root / "train", "Training")
    test_dir = root / "test"
    test = read_image_folder(test_dir, "PublicTest")
    return {"Training": train, "PublicTest": test, "PrivateTest": Split("PrivateTest", test.images, test.labels)}


def load_dataset(path: Path, cache_dir: Path | None = None, ferplus: Path | None = None) -> dict[str, Split]:
    """FER2013 from a CSV (optionally .gz), a folder with train/ and test/ subfolders, or a bundle (training.bundle)."""
    if path.name.endswith(".fer.xz"):
        from training.bundle import read_bundle

        return read_bundle(path)
    if path.is_dir():
        return load_folders(path)
    return load_fer2013(path, cache_dir, ferplus)
