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

    kind: str  # "attention", "negative" or "absence"
    message: str
    since: pd.Timestamp


NEGATIVE_THRESHOLD = 0.4  # a class showing 40 % negative expressions for half a minute is worth a look
INATTENTIVE_THRESHOLD = 0.5  # fewer than half attentive: eyes closed or turned away (looking down is not counted)


def attention_needed(shares: pd.DataFrame, *, expected_students: int, attention: pd.DataFrame | None = None,
                     negative_threshold: float = NEGATIVE_THRESHOLD, absence_threshold: float = 0.5,
                     inattentive_threshold: float = INATTENTIVE_THRESHOLD, sustain_windows: int = 3) -> list[Alert]:
    """Alerts when, for each of the last `sustain_windows` windows shown to the teacher: more than
    `inattentive_threshold` of the class has eyes closed or is looking away (`attention`: attention_shares rows),
    the negative expressions' share exceeds `negative_threshold` (`shares`: emotion_shares rows), or more than
    `absence_threshold` of the joined students are not seen (counted in the mood windows, or in the attention
    windows where no emotions are inferred). Reading or writing (looking down) is not inattention."""
    alerts = []
    if attention is not None and len(attention) >= sustain_windows:
        recent = attention.tail(sustain_windows)
        inattentive = recent["eyes_closed"].astype(float) + recent["looking_away"].astype(float)
        if (inattentive > inattentive_threshold).all():
            alerts.append(Alert("attention", f"More than {inattentive_threshold:.0%} of the class with eyes closed or "
                                             f"looking away for {sustain_windows} windows in a row",
                                recent["window"].iloc[0]))
    if len(shares) >= sustain_windows:
        recent = shares.tail(sustain_windows)
        negative = negative_share(recent)
        if (negative > negative_threshold).all():
            alerts.append(Alert("negative", f"Negative expressions above {negative_threshold:.0%} of the class mood "
                                            f"for {sustain_windows} windows in a row", recent["window"].iloc[0]))
    presence = shares if len(shares) or attention is None else attention  # attention-only: no mood windows
    if expected_students > 0 and len(presence) >= sustain_windows:
        recent = presence.tail(sustain_windows)
        absent = 1 - recent["participants"] / expected_students
        if (absent > absence_threshold).all():
            alerts.append(Alert("absence", f"More than {absence_threshold:.0%} of joined students not visible "
                                           f"for {sustain_windows} windows in a row", recent["window"].iloc[0]))
    return alerts
