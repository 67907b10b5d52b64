"""Classifier speed: ms per face at batch 1, 8 and 32 for every shipped model and runtime.

python -m benchmarks.classify [--models-dir models] [--json]
"""
from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import emit, time_ms
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.classify", description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for folder, card in list_models(args.models_dir):
        for runtime in card.files:
            acc = card.metrics.get("PrivateTest", {}).get("accuracy")
            rows.append({"model": card.name, "runtime": runtime, "default": card.default,
                         "private_test_accuracy": acc, **measure(folder, runtime, args.threads, args.repeats)})
    lines = [f"{'model':<18}{'runtime':<9}{'b1 ms/face':>11}{'b8 ms/face':>11}{'b32 ms/face':>12}{'PrivateTest':>12}"]
    for r in rows:
        acc = f"{r['private_test_accuracy']:.4f}" if r["private_test_accuracy"] is not None else "-"
        lines.append(f"{r['model'] + (' *' if r['default'] else ''):<18}{r['runtime']:<9}{r['ms_per_face_b1']:>11.3f}"
                     f"{r['ms_per_face_b8']:>11.3f}{r['ms_per_face_b32']:>12.3f}{acc:>12}")
    lines.append("(* default model; median of --repeats runs after warm-up)")
    emit({"models": rows}, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
