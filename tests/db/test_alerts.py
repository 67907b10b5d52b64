import pandas as pd

from db.alerts import attention_needed, hide_small_groups, negative_share
from engine.types import EMOTIONS


def shares(rows: list[tuple[str, float, int]]) -> pd.DataFrame:
    """Windows where `label` has `share` and the rest is Neutral, with `n` participants."""
    out = []
    for i, (label, share, n) in enumerate(rows):
        row = {e: 0.0 for e in EMOTIONS}
        row[label] += share
        row["Neutral"] += 1 - share
        out.append({"window": pd.Timestamp("2026-11-02 09:00", tz="UTC") + pd.Timedelta(seconds=10 * i), **row,
                    "observations": n, "participants": n})
    return pd.DataFrame(out)


def test_small_groups_are_hidden() -> None:
    s = shares([("Happy", 0.5, 2), ("Happy", 0.5, 3), ("Sad", 0.5, 5)])
    assert list(hide_small_groups(s, 3)["participants"]) == [3, 5]


def test_negative_share_sums_the_negative_emotions() -> None:
    s = shares([("Sad", 0.6, 4)])
    assert negative_share(s).iloc[0] == 0.6


def test_sustained_negative_mood_raises_an_alert_but_a_blip_does_not() -> None:
    sustained = shares([("Happy", 0.9, 4), ("Sad", 0.6, 4), ("Angry", 0.7, 4), ("Fear", 0.8, 4)])
    (alert,) = attention_needed(sustained, expected_students=4)
    assert alert.kind == "negative" and alert.since == sustained["window"].iloc[1]
    blip = shares([("Sad", 0.9, 4), ("Happy", 0.9, 4), ("Sad", 0.9, 4), ("Sad", 0.9, 4)])
    assert attention_needed(blip, expected_students=4) == []


def test_sustained_absence_raises_an_alert() -> None:
    s = shares([("Happy", 0.9, 1), ("Happy", 0.9, 1), ("Happy", 0.9, 1)])
    assert [a.kind for a in attention_needed(s, expected_students=4)] == ["absence"]
    assert attention_needed(s, expected_students=1) == []
