"""The model comparison table (markdown) from every card's recorded metrics.

python -m training.compare [--models-dir models]

Figures come from `training.evaluate` runs recorded in each card; missing ones print as "–".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.card import ModelCard
from engine.registry import list_models


def figure(card: ModelCard, key: str, field: str, fmt: str = "{:.4f}") -> str:
    value = card.metrics.get(key, {}).get(field)
    return fmt.format(value) if value is not None else "–"


def table(cards: list[ModelCard]) -> str:
    lines = ["| model | architecture | input | parameters | PrivateTest acc | acc (flip TTA) | log-loss | PublicTest acc "
             "(selection) | epochs | pretrained |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for c in cards:
        lines.append(
            f"| {c.name}{' (default)' if c.default else ''} | {c.architecture} | {c.input_size}×{c.input_size} | "
            f"{c.parameters:,} | {figure(c, 'PrivateTest', 'accuracy')} | {figure(c, 'PrivateTest_tta_flip', 'accuracy')} | "
            f"{figure(c, 'PrivateTest', 'log_loss')} | {figure(c, 'PublicTest', 'accuracy')} | "
            f"{c.training.get('epochs_run', '–')} | {c.training.get('pretrained', '–')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    args = p.parse_args(argv)
    print(table([card for _folder, card in list_models(args.models_dir)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
