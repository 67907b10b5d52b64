"""Dataset overview: a grid of sample faces per class and a class-count chart per split (PNG).

python -m training.overview --data ../shared/data/fer2013.csv.gz --out docs/dataset
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from engine.types import EMOTIONS
from training.data import DatasetError, Split, load_dataset


def sample_grid(split: Split, per_class: int, seed: int = 0) -> np.ndarray:
    """Rows of `per_class` random faces, one row per class (blank where a class has fewer)."""
    rng = np.random.default_rng(seed)
    size = split.images.shape[1]
    grid = np.full((len(EMOTIONS) * size, per_class * size), 255, np.uint8)
    for row in range(len(EMOTIONS)):
        idx = np.flatnonzero(split.labels == row)
        for col, i in enumerate(rng.choice(idx, min(per_class, len(idx)), replace=False) if len(idx) else []):
            grid[row * size : (row + 1) * size, col * size : (col + 1) * size] = split.images[i]
    return grid


def write_overview(splits: dict[str, Split], out: Path, per_class: int = 10) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    train = splits["Training"]
    fig, ax = plt.subplots(figsize=(per_class * 0.8, len(EMOTIONS) * 0.85), dpi=110)
    ax.imshow(sample_grid(train, per_class), cmap="gray", vmin=0, vmax=255)
    ax.set_yticks([(i + 0.5) * train.images.shape[1] for i in range(len(EMOTIONS))], EMOTIONS)
    ax.set_xticks([])
    ax.set_title(f"{train.name}: {per_class} random faces per class")
    fig.tight_layout()
    grid_path = out / "samples.png"
    fig.savefig(grid_path)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    width = 0.8 / len(splits)
    for k, split in enumerate(splits.values()):
        counts = [split.class_counts()[e] for e in EMOTIONS]
        ax.bar(np.arange(len(EMOTIONS)) + k * width, counts, width, label=f"{split.name} ({len(split):,})")
    ax.set_xticks(np.arange(len(EMOTIONS)) + width * (len(splits) - 1) / 2, EMOTIONS)
    ax.set_ylabel("faces")
    ax.set_title("Class counts per split")
    ax.legend()
    fig.tight_layout()
    counts_path = out / "class_counts.png"
    fig.savefig(counts_path)
    plt.close(fig)
    return [grid_path, counts_path]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.overview", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path("docs/dataset"))
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    args = p.parse_args(argv)
    try:
        splits = load_dataset(args.data, args.cache_dir)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in write_overview(splits, args.out, args.per_class):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
