"""The model table: printed from the cards, and the README's copy of it agrees with them."""
from __future__ import annotations

from pathlib import Path

from engine.registry import list_models
from tests.conftest import REPO
from training.compare import table


def readme_rows() -> dict[str, dict[str, str]]:
    """The README's shipped-models table, one dict per model (its name without " (default)")."""
    text = (REPO / "README.md").read_text()
    lines = text[text.index("## Shipped models"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in lines[start:end]]
    header, body = cells[0], cells[2:]
    return {row[0].removesuffix(" (default)"): dict(zip(header, row)) for row in body}


def test_the_readme_lists_every_shipped_model_with_its_cards_figures() -> None:
    rows = readme_rows()
    shipped = list_models(REPO / "models")
    assert sorted(rows) == sorted(card.name for _, card in shipped)
    for _folder, card in shipped:
        row = rows[card.name]
        assert row["PrivateTest acc"] == f"{card.metrics['PrivateTest']['accuracy']:.4f}", card.name
        assert row["acc (flip TTA)"] == f"{card.metrics['PrivateTest_tta_flip']['accuracy']:.4f}", card.name
        assert row["PublicTest (selection)"] == f"{card.metrics['PublicTest']['accuracy']:.4f}", card.name
        assert row["parameters"] == f"{card.parameters:,}", card.name
        assert row["input"] == f"{card.input_size}×{card.input_size}", card.name


def test_the_printed_table_has_a_row_per_card_and_marks_the_default(tiny_models_dir: Path) -> None:
    lines = table([card for _, card in list_models(tiny_models_dir)]).splitlines()
    assert len(lines) == 3
    assert lines[2].startswith("| tiny (default) | ")
