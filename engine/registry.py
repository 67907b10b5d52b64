"""The shipped models: each folder under the models directory with a card.json."""
from __future__ import annotations

from pathlib import Path

from engine.card import CARD_FILE, ModelCard, ModelCardError, read_card


def list_models(models_dir: Path) -> list[tuple[Path, ModelCard]]:
    """(folder, card) for every model under `models_dir`, the default first, then by folder name."""
    if not models_dir.is_dir():
        return []
    found = [(p.parent, read_card(p.parent)) for p in sorted(models_dir.glob(f"*/{CARD_FILE}"))]
    return sorted(found, key=lambda item: (not item[1].default, item[0].name))


def resolve_model(models_dir: Path, name: str = "") -> Path:
    """The folder of the named model, or of the default one (else the first by name) when `name` is empty."""
    found = list_models(models_dir)
    if not found:
        raise ModelCardError(f"no models found under {models_dir} (each model is a folder with {CARD_FILE})")
    if not name:
        defaults = [folder.name for folder, card in found if card.default]
        if len(defaults) > 1:
            raise ModelCardError(f"more than one model under {models_dir} is marked default ({', '.join(defaults)}); "
                                 "unmark all but one in their card.json, or name one with ENGAGE_MODEL")
        return found[0][0]
    for folder, _card in found:
        if folder.name == name:
            return folder
    raise ModelCardError(f"unknown model {name!r}; available: {', '.join(f.name for f, _ in found)}")
