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


def attention(rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    """Windows of (looking down, looking away, eyes closed) shares; the rest attentive; four students."""
    return pd.DataFrame([{"window": pd.Timestamp("2026-11-02 09:00", tz="UTC") + pd.Timedelta(seconds=10 * i),
                          "attentive": 1 - down - away - closed, "looking_down": down, "looking_away": away,
                          "eyes_closed": closed, "observations": 4, "participants": 4}
                         for i, (down, away, closed) in enumerate(rows)])


def test_a_class_turned_away_or_asleep_raises_an_attention_alert_but_reading_does_not() -> None:
    calm = shares([("Happy", 0.6, 4)] * 3)
    away = attention([(0.0, 0.25, 0.0), (0.0, 0.5, 0.25), (0.0, 0.75, 0.0), (0.25, 0.25, 0.5)])
    (alert,) = attention_needed(calm, expected_students=4, attention=away)
    assert alert.kind == "attention" and alert.since == away["window"].iloc[1]
    reading = attention([(0.75, 0.0, 0.0)] * 3)  # heads down over their work
    assert attention_needed(calm, expected_students=4, attention=reading) == []


def test_a_class_mostly_negative_for_half_a_minute_raises_the_alert() -> None:
    """41-51 % negative for three windows running is worth a look."""
    s = shares([("Sad", 0.45, 4), ("Angry", 0.41, 4), ("Fear", 0.51, 4)])
    assert [a.kind for a in attention_needed(s, expected_students=4)] == ["negative"]


def test_absence_is_counted_in_attention_windows_where_no_emotions_are_inferred() -> None:
    present = attention([(0.0, 0.0, 0.0)] * 3)  # four students visible in every window
    few = present.assign(participants=1)
    no_mood = shares([])
    assert attention_needed(no_mood, expected_students=4, attention=present) == []
    assert [a.kind for a in attention_needed(no_mood, expected_students=4, attention=few)] == ["absence"]
