"""Face detectors: recall on real faces (FER2013 PublicTest faces and the astronaut) and ms per frame.

python -m benchmarks.detectors [--data ../shared/data/fer2013.csv.gz] [--faces 500] [--json]
"""
from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from benchmarks.common import DEFAULT_DATA, astronaut, emit, frame_of, time_ms
from engine.detectors import HaarDetector, make_detector
from engine.preprocess import to_gray
from engine.types import Box, Face

ASTRONAUT_FACE = Box(177, 66, 95, 95)
TILE = 144  # a 48x48 FER face shown at 3x, about the size of a face in a 640x480 webcam frame


def fer_scene(face: np.ndarray, tile: int = TILE) -> tuple[np.ndarray, Box]:
    """A 320x240 frame with one FER2013 face upscaled in the middle, and the face's box."""
    frame = np.full((240, 320, 3), 110, np.uint8)
    patch = cv2.cvtColor(cv2.resize(face, (tile, tile), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
    x0, y0 = (320 - tile) // 2, (240 - tile) // 2
    frame[y0 : y0 + tile, x0 : x0 + tile] = patch
    # FER crops are loose: the face itself fills roughly the middle 80 % of the tile
    inner = int(tile * 0.8)
    return frame, Box(x0 + (tile - inner) // 2, y0 + (tile - inner) // 2, inner, inner)


def recall(detector, faces: np.ndarray, min_iou: float, tile: int = TILE) -> float:  # type: ignore[no-untyped-def]
    hits = 0
    for face in tqdm(faces, desc=detector.name, unit="face", file=sys.stderr):
        frame, box = fer_scene(face, tile)
        hits += any(f.box.iou(box) >= min_iou for f in detector.detect(frame))
    return hits / len(faces)


class EqualisedHaar(HaarDetector):
    """The Haar cascade on a histogram-equalised image (the variant the default dropped)."""

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        return super().detect(cv2.equalizeHist(to_gray(image)), size_range)


def haar_sweep(faces: np.ndarray, min_iou: float, tile: int) -> str:
    """Recall of Haar parameter variants on small faces (how the defaults were chosen)."""
    variants = [("equalised, minNeighbors 5, minSize 24", EqualisedHaar(1.1, 5, 24)),
                ("equalised, minNeighbors 4, minSize 20", EqualisedHaar(1.1, 4, 20)),
                ("plain, minNeighbors 5, minSize 24", HaarDetector(1.1, 5, 24)),
                ("plain, minNeighbors 4, minSize 20 (default)", HaarDetector(1.1, 4, 20))]
    lines = [f"Haar variants, {len(faces)} FER PublicTest faces at {tile} px:"]
    lines += [f"  {name:<45} recall {recall(d, faces, min_iou, tile):.3f}" for name, d in variants]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.detectors", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--faces", type=int, default=500, help="PublicTest faces to test recall on")
    p.add_argument("--min-iou", type=float, default=0.3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--detectors", default="haar,mtcnn")
    p.add_argument("--haar-sweep", type=int, metavar="TILE", help="only compare Haar variants on faces of TILE px")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from training.data import load_fer2013

    faces = load_fer2013(args.data, Path("data/cache"))["PublicTest"].images[: args.faces]
    if args.haar_sweep:
        print(haar_sweep(faces, args.min_iou, args.haar_sweep))
        return 0
    image = astronaut()
    frames = {f"{w}x{h}": frame_of(image, w, h) for w, h in ((640, 480), (320, 240))}
    rows = {}
    for name in args.detectors.split(","):
        detector = make_detector(name)
        found = detector.detect(image)
        rows[name] = {
            "fer_recall": round(recall(detector, faces, args.min_iou), 4),
            "astronaut_found": any(f.box.iou(ASTRONAUT_FACE) >= 0.5 for f in found),
            **{f"ms_{size}": round(time_ms(partial(detector.detect, fr), args.repeats), 1) for size, fr in frames.items()},
        }
    lines = [f"{'detector':<10}{'recall (FER PublicTest)':>25}{'astronaut':>11}{'ms 640x480':>12}{'ms 320x240':>12}"]
    for name, r in rows.items():
        lines.append(f"{name:<10}{r['fer_recall']:>25.3f}{str(r['astronaut_found']):>11}"
                     f"{r['ms_640x480']:>12.1f}{r['ms_320x240']:>12.1f}")
    lines.append(f"({len(faces)} FER2013 PublicTest faces at {TILE}px in a 320x240 frame; hit = IoU >= {args.min_iou})")
    emit({"faces": len(faces), "detectors": rows}, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
