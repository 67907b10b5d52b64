"""Evaluate a model folder on one FER2013 split and record the figures in its card.

python -m training.evaluate models/<name> --data ../shared/data/fer2013.csv.gz --split PrivateTest --json [--tta flip]
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.card import ModelCardError, read_card, write_card
from engine.classifier import load_classifier
from engine.preprocess import preprocess_faces
from training.data import SPLITS, DatasetError, load_dataset

log = logging.getLogger("training.evaluate")


def predict_split(classifier, images: np.ndarray, tta: str, chunk: int = 256) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Probabilities for every image, optionally averaged with the mirrored face."""
    size = classifier.card.input_size
    out = []
    for start in tqdm(range(0, len(images), chunk), desc="evaluate", unit="batch", file=sys.stderr):
        batch = preprocess_faces(images[start : start + chunk], size, classifier.card.preprocessing)
        probs = classifier.predict_array(batch)
        if tta == "flip":
            probs = (probs + classifier.predict_array(batch[:, :, ::-1, :].copy())) / 2
        out.append(probs)
    return np.concatenate(out)


def metrics(probs: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> dict[str, object]:
    """Accuracy, log-loss, per-class precision/recall/F1 and the confusion matrix (rows: true labels)."""
    k = len(names)
    pred = probs.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = {}
    for i, name in enumerate(names):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                           "f1": round(float(f1), 4), "support": int(confusion[i].sum())}
    eps = 1e-7
    log_loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1.0))))
    return {"accuracy": round(float((pred == labels).mean()), 4), "log_loss": round(log_loss, 4), "n": int(len(labels)),
            "per_class": per_class, "confusion_matrix": confusion.tolist()}


def plot_confusion(confusion: list[list[int]], names: tuple[str, ...], title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(confusion, dtype=np.float64)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5), dpi=110)
    im = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=8,
                    color="white" if normalised[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="a model folder (with card.json)")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", default="PrivateTest", choices=SPLITS)
    p.add_argument("--tta", default="none", choices=("none", "flip"))
    p.add_argument("--runtime", default="", choices=("", "tflite", "keras"))
    p.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    p.add_argument("--no-record", action="store_true", help="do not write the figures into the card")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        card = read_card(args.model)
        classifier = load_classifier(args.model, args.runtime)
        split = load_dataset(args.data, args.cache_dir)[args.split]
    except (ModelCardError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runtime = args.runtime or card.runtime
    result = metrics(predict_split(classifier, split.images, args.tta), split.labels, card.labels)
    key = f"{args.split}" + ("" if runtime == card.runtime else f"_{runtime}") + ("_tta_flip" if args.tta == "flip" else "")
    png = plot_confusion(result["confusion_matrix"], card.labels,  # type: ignore[arg-type]
                         f"{card.name} on {args.split} ({key}): {result['accuracy']:.2%}",
                         args.model / f"confusion_{key}.png")
    result.update(model=card.name, split=args.split, tta=args.tta, runtime=runtime, confusion_png=str(png))
    if not args.no_record:
        write_card(args.model, replace(card, metrics={**card.metrics, key: {
            k: result[k] for k in ("accuracy", "log_loss", "n", "per_class")}}))
    if not args.json:
        print(f"{card.name} [{runtime}] on {args.split} (tta={args.tta}): accuracy {result['accuracy']:.4f}, "
              f"log-loss {result['log_loss']:.4f}, n={result['n']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
