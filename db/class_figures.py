"""A lesson's class-level figures under the privacy rule, for everything that leaves the database as figures: the
teacher's replay, the session report and the per-minute export.

The rule: unless a lesson is per-student (and the deployment allows it), a time window counts only when at least
`min_group` students contribute to it; every average, chart and table is built from those windows alone, so a
lesson with one or two students yields no class figures at all instead of one student's own.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.alerts import hide_small_groups
from db.moments import Moment, find_moments
from db.queries import SessionSummary, attention_shares, emotion_shares, observations_frame, session_summary
from engine.types import ATTENTION_STATES, EMOTIONS

PER_STUDENT = "per-student"


def shows_individuals(lesson_mode: str, deployment_mode: str) -> bool:
    """Whether a lesson's figures may show individual students: only a per-student lesson in a deployment that
    allows per-student views (a lesson can never widen the deployment's mode)."""
    return lesson_mode == PER_STUDENT and deployment_mode == PER_STUDENT


@dataclass(frozen=True)
class ClassFigures:
    """What may be shown of one lesson: the windows that pass the privacy rule and averages over them alone."""

    summary: SessionSummary
    window: str
    min_group: int
    individuals: bool  # per-student lesson in a deployment that allows it: no window is hidden
    mood: pd.DataFrame  # emotion_shares rows that pass the rule
    attention: pd.DataFrame  # attention_shares rows that pass the rule
    windows: int  # windows with any record
    hidden: int  # windows withheld by the rule
    peak_students: int  # the most students in any one window

    @property
    def mean_mood(self) -> dict[str, float]:
        """Each emotion's share over the shown windows, weighted by their records; empty when none is shown."""
        return weighted_means(self.mood, EMOTIONS)

    @property
    def mean_attention(self) -> dict[str, float]:
        return weighted_means(self.attention, ATTENTION_STATES)

    @property
    def dominant(self) -> str | None:
        mood = self.mean_mood
        return max(mood, key=mood.__getitem__) if mood else None

    def moments(self, emotion: bool = True) -> list[Moment]:
        """The lesson's moments (db.moments) over the windows shown; attention ones only without emotion inference."""
        found = find_moments(self.attention, self.mood, pd.Timedelta(self.window))
        return found if emotion else [m for m in found if m.kind == "attention"]

    def minutes_table(self) -> pd.DataFrame:
        """The shown windows, mood and attention side by side (one row per window): the per-minute export."""
        mood = self.mood.drop(columns=["observations", "participants"], errors="ignore")
        attention = self.attention.drop(columns=["observations"], errors="ignore")
        if mood.empty and attention.empty:
            return pd.DataFrame(columns=["window", *EMOTIONS, *ATTENTION_STATES, "participants"])
        counts = pd.concat([self.mood[["window", "participants"]], self.attention[["window", "participants"]]])
        students = counts.groupby("window")["participants"].max().reset_index()
        table = students.merge(mood, on="window", how="left").merge(
            attention.drop(columns=["participants"]), on="window", how="left")
        return table[["window", *(c for c in (*EMOTIONS, *ATTENTION_STATES) if c in table), "participants"]]


def weighted_means(shares: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, float]:
    if shares.empty or shares["observations"].sum() == 0:
        return {}
    weights = shares["observations"].astype(float)
    return {c: float((shares[c].astype(float) * weights).sum() / weights.sum()) for c in columns}


def class_figures(session: Session, lesson_id: int, *, min_group: int, individuals: bool,
                  window: str = "1min", frame: pd.DataFrame | None = None) -> ClassFigures:
    """The lesson's figures per `window` under the privacy rule (see the module); `frame`: its observations_frame,
    where the caller has read it already."""
    summary = session_summary(session, lesson_id)
    frame = observations_frame(session, lesson_id) if frame is None else frame
    mood, attention = emotion_shares(frame, window), attention_shares(frame, window)
    everything = pd.concat([mood[["window", "participants"]], attention[["window", "participants"]]])
    per_window = everything.groupby("window")["participants"].max() if len(everything) else pd.Series(dtype=int)
    shown = per_window if individuals else per_window[per_window >= min_group]
    return ClassFigures(
        summary, window, min_group, individuals,
        mood if individuals else hide_small_groups(mood, min_group),
        attention if individuals else hide_small_groups(attention, min_group),
        windows=len(per_window), hidden=len(per_window) - len(shown),
        peak_students=int(per_window.max()) if len(per_window) else 0,
    )
