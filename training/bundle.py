"""FER2013 splits packed small for a machine that has numpy but no copy of the CSV (a lent GPU): the faces
delta-coded along each row and xz-compressed, read back bit-exact with numpy alone.

python -m training.bundle --data fer2013.csv.gz [--ferplus fer2013new.csv] --splits Training --out data/gpu/train.fer.xz
"""
from __future__ import annotations

import argparse
import io
import logging
import lzma
import sys
from pathlib import Path

import numpy as np

from training.data import SPLITS, DatasetError, Split, load_dataset

log = logging.getLogger("training.bundle")
SUFFIX = ".fer.xz"


def encode(images: np.ndarray) -> np.ndarray:
    """Each pixel minus its left neighbour, modulo 256 (faces are smooth: the differences compress well)."""
    return np.diff(images.astype(np.int16), axis=-1, prepend=0).astype(np.uint8)


def decode(deltas: np.ndarray) -> np.ndarray:
    return np.cumsum(deltas, axis=-1, dtype=np.uint8)  # the sum wraps modulo 256, undoing encode exactly


def write_bundle(splits: dict[str, Split], path: Path) -> int:
    """Write the given splits to `path`; returns its size in bytes."""
    arrays: dict[str, np.ndarray] = {}
    for name, split in splits.items():
        arrays[f"{name}/images"] = encode(split.images)
        arrays[f"{name}/labels"] = split.labels.astype(np.uint8)
        if split.soft_labels is not None:
            arrays[f"{name}/soft"] = split.soft_labels.astype(np.float16)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(buffer.getvalue(), preset=9))
    return path.stat().st_size


def read_bundle(path: Path) -> dict[str, Split]:
    """The splits a bundle holds (a split it lacks is simply absent)."""
    try:
        raw = lzma.decompress(path.read_bytes())
        with np.load(io.BytesIO(raw)) as npz:
            names = sorted({key.split("/")[0] for key in npz.files}, key=SPLITS.index)
            return {name: Split(name, decode(npz[f"{name}/images"]), npz[f"{name}/labels"].astype(np.int64),
                                npz[f"{name}/soft"].astype(np.float32) if f"{name}/soft" in npz.files else None)
                    for name in names}
    except (OSError, lzma.LZMAError, ValueError, KeyError) as exc:
        raise DatasetError(f"{path}: not a readable FER2013 bundle ({exc})") from exc


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m training.bundle", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="your copy of fer2013.csv(.gz)")
    p.add_argument("--ferplus", help="fer2013new.csv, to carry the FER+ vote distributions")
    p.add_argument("--splits", nargs="+", default=["Training"], choices=SPLITS)
    p.add_argument("--cache-dir", default="data/cache")
    p.add_argument("--out", required=True, help=f"the bundle file (ends in {SUFFIX})")
    args = p.parse_args(argv)
    if not args.out.endswith(SUFFIX):
        p.error(f"--out must end in {SUFFIX}")
    try:
        splits = load_dataset(Path(args.data), Path(args.cache_dir), Path(args.ferplus) if args.ferplus else None)
    except DatasetError as exc:
        log.error("%s", exc)
        return 2
    size = write_bundle({name: splits[name] for name in args.splits}, Path(args.out))
    log.info("wrote %s: %s, %.1f MiB", args.out, ", ".join(f"{n} {len(splits[n])}" for n in args.splits), size / 2**20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
