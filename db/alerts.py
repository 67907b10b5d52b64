"""Pure policy over mood windows: the privacy threshold and the teacher's "attention needed" signal."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine.types import NEGATIVE_EMOTIONS


def hide_small_groups(shares: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """Only windows where at least `min_group` students contribute, so no single student can be singled out."""
    if shares.empty:
        return shares
    return shares[shares["participants"] >= min_group].reset_index(drop=True)


def negative_share(shares: pd.DataFrame) -> pd.Series:
    """Per window, the summed share of Angry, Disgust, Fear and Sad."""
    return shares[sorted(NEGATIVE_EMOTIONS)].sum(axis=1) if not shares.empty else pd.Series(dtype=float)


@dataclass(frozen=True)
class Alert:
    """Why the teacher should look up."""

    kind: str  # "negative" or "absence"
    message: str
    since: pd.Timestamp


def attention_needed(shares: pd.DataFrame, *, expected_students: int, negative_threshold: float = 0.5,
                     absence_threshold: float = 0.5, sustain_windows: int = 3) -> list[Alert]:
    """Alerts when negative mood or absence stays above its threshold for the last `sustain_windows` windows."""
    if len(shares) < sustain_windows:
        return []
    recent = shares.tail(sustain_windows)
    alerts = []
    negative = negative_share(recent)
    if (negative > negative_threshold).all():
        alerts.append(Alert("negative", f"Negative emotions above {negative_threshold:.0%} of the class mood "
                                        f"for {sustain_windows} windows in a row", recent["window"].iloc[0]))
    if expected_students > 0:
        absent = 1 - recent["participants"] / expected_students
        if (absent > absence_threshold).all():
            alerts.append(Alert("absence", f"More than {absence_threshold:.0%} of joined students not visible "
                                           f"for {sustain_windows} windows in a row", recent["window"].iloc[0]))
    return alerts
