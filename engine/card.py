"""The model card: a model folder's `card.json`, enough for the engine to rebuild the classifier alone."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CARD_FILE = "card.json"
RUNTIMES: tuple[str, ...] = ("tflite", "keras")


class ModelCardError(ValueError):
    """A model folder or its card is missing or malformed."""


@dataclass(frozen=True)
class ModelCard:
    """What a model folder holds and how its inputs are made."""

    name: str
    architecture: str
    labels: tuple[str, ...]
    input_size: int
    preprocessing: str = "gray-unit-v1"
    color_mode: str = "grayscale"
    files: dict[str, str] = field(default_factory=dict)  # runtime -> file name in the folder
    runtime: str = "tflite"  # the runtime the engine serves with by default
    default: bool = False
    parameters: int = 0
    training: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # split (and "_tta_flip" variants) -> figures
    description: str = ""

    def to_json(self) -> str:
        payload = asdict(self)
        payload["labels"] = list(self.labels)
        return json.dumps(payload, indent=2) + "\n"


def read_card(folder: Path) -> ModelCard:
    """The card of a model folder, validated."""
    path = folder / CARD_FILE
    if not path.is_file():
        raise ModelCardError(f"{folder}: no {CARD_FILE} (is this a model folder?)")
    try:
        raw = json.loads(path.read_text())
        card = ModelCard(**{**raw, "labels": tuple(raw["labels"])})
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise ModelCardError(f"{path}: malformed model card ({exc})") from exc
    if card.runtime not in RUNTIMES or card.runtime not in card.files:
        raise ModelCardError(f"{path}: runtime {card.runtime!r} must be one of {RUNTIMES} and listed in files")
    return card


def write_card(folder: Path, card: ModelCard) -> Path:
    """Write `card.json` into the folder (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CARD_FILE
    path.write_text(card.to_json())
    return path
