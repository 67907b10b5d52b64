"""Moment detection on constructed per-minute class figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from db.moments import Thresholds, find_moments
from engine.types import EMOTIONS

T0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")


def figures(attentive: list[float], happy: list[float] | None = None, sad: list[float] | None = None,
            students: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(attentive)
    windows = [T0 + pd.Timedelta(minutes=i) for i in range(n)]
    attention = pd.DataFrame({"window": windows, "attentive": attentive, "looking_down": 0.0,
                              "looking_away": [1 - a for a in attentive], "eyes_closed": 0.0,
                              "observations": 60 * students, "participants": students})
    happy = happy or [0.5] * n
    sad = sad or [0.05] * n
    mood = pd.DataFrame({"window": windows, **{e: 0.0 for e in EMOTIONS}, "observations": 60 * students,
                         "participants": students})
    mood["Happy"], mood["Sad"] = happy, sad
    mood["Neutral"] = 1 - mood["Happy"] - mood["Sad"]
    return attention, mood


def noisy(level: float, n: int, noise: float, seed: int = 0) -> list[float]:
    return list(np.clip(level + np.random.default_rng(seed).normal(0, noise, n), 0, 1))


def test_a_clear_dip_in_attention_is_found_with_its_start_and_length() -> None:
    attentive = noisy(0.85, 40, 0.04)
    attentive[22:27] = [0.45, 0.4, 0.42, 0.5, 0.44]  # five minutes from 09:22
    (moment,) = find_moments(*figures(attentive))
    assert moment.kind == "attention" and moment.start == T0 + pd.Timedelta(minutes=22)
    assert moment.minutes == 5 and moment.students == 5
    assert moment.baseline == pytest.approx(0.85, abs=0.03) and moment.level == pytest.approx(0.442, abs=0.01)
    assert moment.describe().startswith("Attention fell from 8") and "for 5 min (5 students)" in moment.describe()


def test_negative_expressions_rising_and_positive_mood_falling_are_moments_too() -> None:
    n = 30
    happy, sad = noisy(0.5, n, 0.03, 1), noisy(0.08, n, 0.02, 2)
    happy[10:14], sad[10:14] = [0.2] * 4, [0.45] * 4
    kinds = {(m.kind, m.start.minute, round(m.minutes)) for m in find_moments(*figures(noisy(0.8, n, 0.03), happy, sad))}
    assert kinds == {("positive", 10, 4), ("negative", 10, 4)}


@pytest.mark.parametrize("seed", range(5))
def test_noise_of_the_size_seen_in_lessons_is_not_a_moment(seed: int) -> None:
    """Per-minute shares of a class of five wander by several points; none of that is a moment."""
    n = 45
    assert find_moments(*figures(noisy(0.8, n, 0.06, seed), noisy(0.45, n, 0.06, seed + 10),
                                 noisy(0.1, n, 0.04, seed + 20))) == []


def test_a_single_bad_minute_is_not_a_moment_but_one_good_minute_inside_a_dip_does_not_split_it() -> None:
    attentive = [0.85] * 30
    attentive[5] = 0.3
    attentive[15:20] = [0.4, 0.4, 0.8, 0.4, 0.4]
    (moment,) = find_moments(*figures(attentive))
    assert moment.start == T0 + pd.Timedelta(minutes=15) and moment.minutes == 5


def test_short_lessons_and_empty_figures_give_no_moments() -> None:
    attentive = [0.9, 0.9, 0.2, 0.2, 0.2, 0.9]
    assert find_moments(*figures(attentive)) == []
    empty = pd.DataFrame(columns=["window", "attentive", "participants"])
    assert find_moments(empty, pd.DataFrame(columns=["window", *EMOTIONS, "participants"])) == []
    assert find_moments(*figures([0.9] * 20 + [0.3, 0.3]), thresholds=Thresholds(min_windows=3)) == []


def test_minutes_hidden_by_the_privacy_rule_split_a_run() -> None:
    attention, mood = figures([0.85] * 12 + [0.3, 0.3, 0.3, 0.3] + [0.85] * 12)
    attention = attention.drop(index=[13, 14]).reset_index(drop=True)  # two minutes with too few students
    assert [m.minutes for m in find_moments(attention, mood.iloc[:0])] == []  # 1 + 1 windows: neither is a moment
