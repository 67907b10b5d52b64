"""A run's weights as a few small files and back: how a model trained on a lent machine (files of at most 16 MiB come
back from it) becomes a model folder here, with its card and TFLite export.

python -m training.parts export --run runs/inceptionv3 --out DIR [--max-mib 16]   (on the machine that trained)
python -m training.parts import --parts DIR [--models-dir models] [--name NAME]   (here: card and TFLite)
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from engine.types import EMOTIONS

log = logging.getLogger("training.parts")
PART = "weights-{:03d}.npz"
STATE = "state.json"
NPZ_OVERHEAD = 512  # bytes per array for its zip entry and .npy header, so that a part stays under the limit


def save_parts(weights: list[np.ndarray], out: Path, max_bytes: int, dtype: str = "float16") -> list[Path]:
    """`weights` in order, as float16 by default (half the bytes; the served model is quantised further), in npz
    files of at most `max_bytes` each."""
    out.mkdir(parents=True, exist_ok=True)
    groups: list[list[int]] = [[]]
    size = 0
    for i, w in enumerate(weights):
        nbytes = w.size * np.dtype(dtype).itemsize + NPZ_OVERHEAD
        if nbytes > max_bytes:
            raise ValueError(f"weight {i} alone is {nbytes} bytes, over the {max_bytes}-byte limit")
        if size + nbytes > max_bytes and groups[-1]:
            groups.append([])
            size = 0
        groups[-1].append(i)
        size += nbytes
    paths = []
    for n, group in enumerate(groups):
        path = out / PART.format(n)
        np.savez(path, **{f"w{i:05d}": weights[i].astype(dtype) for i in group})  # type: ignore[arg-type]
        paths.append(path)
    return paths


def load_parts(folder: Path) -> list[np.ndarray]:
    """The weights `save_parts` wrote, in order, as float32."""
    found: dict[int, np.ndarray] = {}
    for path in sorted(folder.glob("weights-*.npz")):
        with np.load(path) as npz:
            found.update({int(key[1:]): npz[key].astype(np.float32) for key in npz.files})
    if not found or sorted(found) != list(range(len(found))):
        raise ValueError(f"{folder}: the weight parts are missing or incomplete")
    return [found[i] for i in range(len(found))]


def export(run: Path, out: Path, max_mib: float) -> list[Path]:
    import keras

    checkpoint = run / "best.keras" if (run / "best.keras").exists() else run / "last.keras"
    model = keras.models.load_model(checkpoint, compile=False)
    paths = save_parts([np.asarray(w) for w in model.get_weights()], out, int(max_mib * 2**20))
    shutil.copy(run / STATE, out / STATE)
    log.info("%s -> %d parts in %s (%.1f MiB)", checkpoint, len(paths), out, sum(p.stat().st_size for p in paths) / 2**20)
    return paths


def import_parts(parts: Path, models_dir: Path, name: str | None) -> Path:
    """Rebuild the run's architecture here, load the parts and write the model folder (card, Keras, TFLite)."""
    from training.train import RunState, TrainConfig, write_model_folder
    from training.zoo import build

    state = json.loads((parts / STATE).read_text())
    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in state["config"].items() if k in known})
    cfg = replace(cfg, name=name or cfg.name)
    model = build(cfg.arch, cfg.input_size, len(EMOTIONS))
    model.set_weights(load_parts(parts))
    args = argparse.Namespace(models_dir=str(models_dir), no_tflite=False, quantize="auto", default=False)
    return write_model_folder(model, cfg, args, RunState(parts), state.get("train_seconds"))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m training.parts", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="a run's best (else last) checkpoint as weight parts and its state")
    e.add_argument("--run", required=True, help="the run's folder (runs/<name>)")
    e.add_argument("--out", required=True)
    e.add_argument("--max-mib", type=float, default=16.0)
    i = sub.add_parser("import", help="weight parts and state as a model folder")
    i.add_argument("--parts", required=True)
    i.add_argument("--models-dir", default="models")
    i.add_argument("--name", help="the model folder's name (default: the run's)")
    args = p.parse_args(argv)
    try:
        if args.command == "export":
            export(Path(args.run), Path(args.out), args.max_mib)
        else:
            print(import_parts(Path(args.parts), Path(args.models_dir), args.name))
    except (OSError, ValueError, KeyError) as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
