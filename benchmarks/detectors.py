"""Face detectors: recall on real faces (FER2013 PublicTest faces and the astronaut) and ms per frame.

python -m benchmarks.detectors [--data ../shared/data/fer2013.csv.gz] [--faces 500] [--json]
python -m benchmarks.detectors --follow [--faces 300] [--json]   # the streams' region checks (detect_near)
python -m benchmarks.detectors --sizes [--json]   # the smallest webcam face each finds, false finds on non-faces
python -m benchmarks.detectors --classify [--faces 1000] [--json]   # the default model's accuracy on each one's crops
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
from engine.detectors import HaarDetector, detect_near, detect_scaled, make_detector
from engine.preprocess import to_gray
from engine.types import EMOTIONS, Box, Face

ASTRONAUT_FACE = Box(177, 66, 95, 95)
TILE = 144  # a 48x48 FER face shown at 3x, about the size of a face in a 640x480 webcam frame


def fer_scene(face: np.ndarray, tile: int = TILE, shift: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, Box]:
    """A 320x240 frame with one FER2013 face upscaled in the middle (moved by `shift`), and the face's box."""
    frame = np.full((240, 320, 3), 110, np.uint8)
    patch = cv2.cvtColor(cv2.resize(face, (tile, tile), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
    x0, y0 = (320 - tile) // 2 + shift[0], (240 - tile) // 2 + shift[1]
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


FOLLOW_TILES = (64, 96, 144, 200)  # a face far from the camera to one close to it, in a 320x240 frame
# (face_px, neighbours): the default first, then other sizes at the default neighbours, then other neighbours
FOLLOW_VARIANTS = ((28, 2), (24, 2), (36, 2), (48, 2), (28, 1), (28, 3), (28, 4))
NON_FACE_IMAGES = ("brick", "coffee", "chelsea", "grass", "gravel", "rocket", "page", "text", "clock_motion", "coins",
                   "horse", "motorcycle_left", "hubble_deep_field", "retina", "cell")


def follow_cases(faces: np.ndarray, tile: int, seed: int = 0) -> list[tuple[Box, np.ndarray, Box]]:
    """(the box a full scan found, the next frame with the face moved, the box moved with it) for every face the
    stream's full scan finds; the face moves up to 10 % of its size, about a student's movement in a quarter second."""
    rng, detector, cases = np.random.default_rng(seed), HaarDetector(), []
    for face in faces:
        frame, placed = fer_scene(face, tile)
        found = [f.box for f in detect_scaled(detector, frame, 240) if f.box.iou(placed) >= 0.3]
        if not found:
            continue
        box = max(found, key=lambda b: b.area)
        dx, dy = (int(v) for v in rng.integers(-tile // 10, tile // 10 + 1, 2))
        moved, _ = fer_scene(face, tile, (dx, dy))
        cases.append((box, moved, Box(box.x + dx, box.y + dy, box.w, box.h)))
    return cases


def non_faces(seed: int = 0) -> list[np.ndarray]:
    """Gray patches with no face: scikit-image's 100 LFW non-faces and 20 random crops of each of its other photos."""
    import skimage

    folder, rng = Path(skimage.__file__).parent / "data", np.random.default_rng(seed)
    patches = [(p * 255).astype(np.uint8) for p in np.load(folder / "lfw_subset.npy")[100:]]
    for name in NON_FACE_IMAGES:
        image = cv2.imread(str(next(folder.glob(f"{name}.*"))), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise RuntimeError(f"scikit-image's {name} image is missing")
        for _ in range(20):
            side = int(rng.integers(40, min(image.shape[:2]) // 2))
            y, x = int(rng.integers(0, image.shape[0] - side)), int(rng.integers(0, image.shape[1] - side))
            patches.append(image[y : y + side, x : x + side])
    return patches


def follow_table(faces: np.ndarray, tiles: tuple[int, ...], variants: tuple[tuple[int, int], ...]) -> tuple[dict[str, object], str]:
    """Per face size and (face_px, neighbours): recall of detect_near on moved faces (IoU >= 0.5 with the moved
    box), ms per region check, and false follows (anything found where a face was and a non-face now is)."""
    import time

    negatives, rows = non_faces(), {}
    for tile in tiles:
        cases = follow_cases(faces, tile)
        empty = [fer_scene(patch, tile) for patch in negatives]  # a student gone, something else in the region
        for px, neighbours in variants:
            detector = HaarDetector(near_neighbors=neighbours)
            hits, seconds = 0, 0.0
            for box, frame, moved in tqdm(cases, desc=f"{tile}px, face_px {px}, {neighbours}", unit="face", file=sys.stderr):
                start = time.perf_counter()
                found = detect_near(detector, frame, box, face_px=px)
                seconds += time.perf_counter() - start
                hits += any(f.box.iou(moved) >= 0.5 for f in found)
            false = sum(bool(detect_near(detector, frame, box, face_px=px)) for frame, box in empty)
            rows[f"{tile}/{px}/{neighbours}"] = {
                "tile": tile, "face_px": px, "neighbors": neighbours, "cases": len(cases),
                "recall": round(hits / max(len(cases), 1), 4), "ms": round(seconds * 1000 / max(len(cases), 1), 3),
                "false_follows": false, "non_faces": len(empty)}
    lines = [f"{'face in frame':>14}{'face_px':>9}{'neighbours':>11}{'followed':>10}{'recall':>9}{'ms':>8}{'false':>8}"]
    lines += [f"{r['tile']:>12}px{r['face_px']:>9}{r['neighbors']:>11}{r['cases']:>10}{r['recall']:>9.3f}{r['ms']:>8.3f}"
              f"{r['false_follows']:>8}" for r in rows.values()]
    lines.append(f"({len(faces)} FER2013 PublicTest faces in a 320x240 frame; followed: those the full scan found; the face "
                 f"moves up to 10 % of its size; hit = IoU >= 0.5 with the moved box; false: of {len(negatives)} non-faces "
                 "in the region, those where something was found)")
    return {"faces": len(faces), "non_faces": len(negatives), "follow": rows}, "\n".join(lines)


SIZE_SWEEP = (40, 50, 60, 70, 80, 90, 100, 120, 160)  # face widths in a 640x480 webcam frame
SCAN_WIDTHS = (240, 640)  # the streams' scan copy (ENGAGE_DETECT_WIDTH) and the full frame


def webcam_frame(face_width: int) -> tuple[np.ndarray, Box]:
    """A 640x480 frame with the astronaut's head scaled so that her face is `face_width` px wide, and its box."""
    scale = face_width / ASTRONAUT_FACE.w
    head = astronaut()[0:300, 100:400]  # her face at (77, 66) in this crop
    side = min(round(300 * scale), 440)
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[20 : 20 + side, 100 : 100 + side] = cv2.resize(head, (round(300 * scale),) * 2)[:side, :side]
    return frame, Box(100 + round(77 * scale), 20 + round(66 * scale), face_width, face_width)


def size_table(names: list[str]) -> tuple[dict[str, object], str]:
    """Per detector: which face widths it finds when scanning at each of SCAN_WIDTHS (hit = IoU >= 0.4), and how many
    of 400 non-face patches it finds a face in."""
    frames = {w: webcam_frame(w) for w in SIZE_SWEEP}
    patches = [cv2.cvtColor(p, cv2.COLOR_GRAY2BGR) for p in non_faces()]
    rows: dict[str, object] = {}
    lines = [f"{'detector':<10}{'scan width':>11}  " + "".join(f"{w:>5}" for w in SIZE_SWEEP) + "   false finds"]
    for name in names:
        detector = make_detector(name)
        false = sum(bool(detector.detect(p)) for p in patches)
        found = {scan: [w for w, (frame, box) in frames.items()
                        if any(f.box.iou(box) >= 0.4 for f in detect_scaled(detector, frame, scan))]
                 for scan in SCAN_WIDTHS}
        rows[name] = {"found": {str(k): v for k, v in found.items()}, "false_finds": false, "non_faces": len(patches)}
        for scan in SCAN_WIDTHS:
            marks = "".join(f"{'yes' if w in found[scan] else 'no':>5}" for w in SIZE_SWEEP)
            lines.append(f"{name:<10}{scan:>11}  {marks}   {false} of {len(patches)}")
    lines.append("(face width in px in a 640x480 frame: scikit-image's astronaut; hit = IoU >= 0.4)")
    return rows, "\n".join(lines)


def classify_table(names: list[str], faces: np.ndarray, labels: np.ndarray, min_iou: float) -> tuple[dict[str, object], str]:
    """Per detector: the default emotion model's accuracy on the crops the engine cuts around what it found (each
    FER2013 face in a 320x240 frame as in `recall`; a face not found counts as wrong), and on the found ones alone;
    'given box' classifies the crop around the face's true place, the detector's ceiling."""
    from engine.classifier import load_classifier
    from engine.preprocess import crop_face
    from engine.registry import resolve_model
    from settings import Settings

    settings = Settings.from_env()
    model = load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime)
    scenes = [fer_scene(face) for face in faces]
    boxes: dict[str, list[Box | None]] = {"given box": [box for _frame, box in scenes]}
    for name in names:
        detector = make_detector(name)
        boxes[name] = []
        for frame, box in tqdm(scenes, desc=name, unit="face", file=sys.stderr):
            found = [f.box for f in detect_scaled(detector, frame, 240) if f.box.iou(box) >= min_iou]
            boxes[name].append(max(found, key=lambda b: b.iou(box)) if found else None)
    rows: dict[str, object] = {}
    lines = [f"{'crops from':<12}{'found':>8}{'accuracy':>10}{'on found':>10}"]
    for name, found_boxes in boxes.items():
        hit = [i for i, b in enumerate(found_boxes) if b is not None]
        crops = [crop_face(to_gray(scenes[i][0]), found_boxes[i]) for i in hit]  # type: ignore[arg-type]
        right = sum(p.label == EMOTIONS[labels[i]] for p, i in zip(model.predict(crops), hit))
        rows[name] = {"found": len(hit), "accuracy": round(right / len(faces), 4),
                      "accuracy_on_found": round(right / max(len(hit), 1), 4)}
        lines.append(f"{name:<12}{len(hit):>8}{right / len(faces):>10.3f}{right / max(len(hit), 1):>10.3f}")
    lines.append(f"({len(faces)} FER2013 PublicTest faces at {TILE} px in a 320x240 frame, model {model.card.name})")
    return rows, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.detectors", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--faces", type=int, default=500, help="PublicTest faces to test recall on")
    p.add_argument("--min-iou", type=float, default=0.3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--detectors", default="haar,blazeface,mtcnn")
    p.add_argument("--haar-sweep", type=int, metavar="TILE", help="only compare Haar variants on faces of TILE px")
    p.add_argument("--follow", action="store_true", help="only the region checks that follow known faces, by face_px")
    p.add_argument("--sizes", action="store_true", help="only the smallest webcam face each finds, and false finds")
    p.add_argument("--classify", action="store_true", help="only the default model's accuracy on each one's crops")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.sizes:
        cv2.setNumThreads(1)
        sizes, table = size_table(args.detectors.split(","))
        emit({"sizes": sizes}, table, args.json)
        return 0
    from training.data import load_fer2013

    public = load_fer2013(args.data, Path("data/cache"))["PublicTest"]
    faces = public.images[: args.faces]
    if args.classify:
        accuracy, table = classify_table(args.detectors.split(","), faces, public.labels[: args.faces], args.min_iou)
        emit({"classify": accuracy}, table, args.json)
        return 0
    if args.haar_sweep:
        print(haar_sweep(faces, args.min_iou, args.haar_sweep))
        return 0
    if args.follow:
        cv2.setNumThreads(1)  # as the app runs OpenCV
        emit(*follow_table(faces, FOLLOW_TILES, FOLLOW_VARIANTS), args.json)
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
