"""The moments that mattered in a lesson: spans where the class's attention or positive mood fell well below the
lesson's own baseline, or negative expressions rose well above it.

A pure function over per-window class figures (db.class_figures, so the privacy rule already holds). The baseline
is the lesson's median and its spread the median absolute deviation, so a few bad minutes do not move either; a
window is unusual when it is further from the baseline than both a fixed margin and a multiple of the spread, and a
moment is a run of unusual windows lasting at least `min_windows` (one usual window inside a run does not end it).
Lessons shorter than `min_lesson_windows` give no moments rather than false ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.types import NEGATIVE_EMOTIONS


@dataclass(frozen=True)
class Thresholds:
    margin: float = 0.15  # at least 15 share points from the baseline
    spreads: float = 3.0  # and at least three robust standard deviations
    min_windows: int = 2  # at least two windows (two minutes in the lesson summary)
    min_lesson_windows: int = 8  # shorter lessons have no baseline worth the name


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Moment:
    kind: str  # "attention", "positive" (mood) or "negative"
    start: pd.Timestamp  # the first window's start
    end: pd.Timestamp  # the last window's end
    baseline: float  # the lesson's usual share
    level: float  # the share during the moment (mean over its windows)
    students: int  # the most students in any of its windows

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def change(self) -> float:
        """Share points away from the baseline: negative for a drop."""
        return self.level - self.baseline

    def describe(self) -> str:
        what = {"attention": "Attention", "positive": "Positive mood", "negative": "Negative expressions"}[self.kind]
        direction = "rose" if self.change > 0 else "fell"
        return (f"{what} {direction} from {self.baseline:.0%} to {self.level:.0%} for {self.minutes:.0f} min "
                f"({self.students} students)")


KINDS: dict[str, int] = {"attention": -1, "positive": -1, "negative": +1}  # the direction that matters


def series_of(kind: str, attention: pd.DataFrame, mood: pd.DataFrame) -> pd.DataFrame:
    """(window, value, participants) for one kind of moment."""
    if kind == "attention":
        source, values = attention, attention.get("attentive")
    elif kind == "positive":
        source, values = mood, mood.get("Happy")
    else:
        source = mood
        values = mood[sorted(NEGATIVE_EMOTIONS)].sum(axis=1) if not mood.empty else None
    if source.empty or values is None:
        return pd.DataFrame(columns=["window", "value", "participants"])
    return pd.DataFrame({"window": source["window"], "value": values.astype(float),
                         "participants": source["participants"]}).sort_values("window").reset_index(drop=True)


MINUTE = pd.Timedelta(minutes=1)


def find_moments(attention: pd.DataFrame, mood: pd.DataFrame, window: pd.Timedelta = MINUTE,
                 thresholds: Thresholds = THRESHOLDS) -> list[Moment]:
    """Every moment in a lesson, by start time (see the module)."""
    moments = []
    for kind, direction in KINDS.items():
        series = series_of(kind, attention, mood)
        if len(series) < thresholds.min_lesson_windows:
            continue
        values = series["value"].to_numpy()
        baseline = float(np.median(values))
        spread = 1.4826 * float(np.median(np.abs(values - baseline)))
        unusual = direction * (values - baseline) > max(thresholds.margin, thresholds.spreads * spread)
        for first, last in runs(unusual, series["window"], window):
            span = series.iloc[first:last + 1]
            if last - first + 1 < thresholds.min_windows or unusual[first:last + 1].sum() < thresholds.min_windows:
                continue
            moments.append(Moment(kind, span["window"].iloc[0], span["window"].iloc[-1] + window, baseline,
                                  float(span["value"][unusual[first:last + 1]].mean()),
                                  int(span["participants"].max())))
    return sorted(moments, key=lambda m: m.start)


def runs(flags: np.ndarray, windows: pd.Series, window: pd.Timedelta) -> list[tuple[int, int]]:
    """(first, last) indexes of runs of True, bridging one False between two Trues; a gap in time (windows missing,
    e.g. hidden by the privacy rule) ends a run."""
    out: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate(flags):
        contiguous = i == 0 or windows.iloc[i] - windows.iloc[i - 1] <= window
        if start is not None and not contiguous:
            out.append((start, last_true(flags, start, i - 1)))
            start = None
        if flag and start is None:
            start = i
        elif not flag and start is not None and not (i + 1 < len(flags) and flags[i + 1]
                                                     and windows.iloc[i + 1] - windows.iloc[i] <= window):
            out.append((start, last_true(flags, start, i)))
            start = None
    if start is not None:
        out.append((start, last_true(flags, start, len(flags) - 1)))
    return out


def last_true(flags: np.ndarray, start: int, end: int) -> int:
    while end > start and not flags[end]:
        end -= 1
    return end
