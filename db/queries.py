"""Aggregate queries the dashboard and reports need, as pandas DataFrames and typed summaries."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from db.schema import PROBABILITY_COLUMNS, LessonSession, ObservationRow, Participant
from engine.types import ATTENTION_STATES, EMOTIONS, AttentionSignals

LABEL_OF_COLUMN = dict(zip(PROBABILITY_COLUMNS, EMOTIONS))


def observations_frame(session: Session, lesson_id: int, since: datetime | None = None,
                       participant_id: int | None = None, until: datetime | None = None) -> pd.DataFrame:
    """Observations of a lesson (optionally from `since`, up to `until`, or of one participant), oldest first; only
    those within the lesson's time span (the writer refuses later ones; a database from before that rule may hold
    some)."""
    cols = [ObservationRow.ts, ObservationRow.participant_id, ObservationRow.track_id, ObservationRow.label,
            ObservationRow.confidence, *(getattr(ObservationRow, c) for c in PROBABILITY_COLUMNS),
            ObservationRow.model_name, ObservationRow.extras]
    query = select(*cols).where(within_lesson(session, lesson_id))
    if since is not None:
        query = query.where(ObservationRow.ts >= since)
    if until is not None:
        query = query.where(ObservationRow.ts <= until)
    if participant_id is not None:
        query = query.where(ObservationRow.participant_id == participant_id)
    rows = session.execute(query.order_by(ObservationRow.ts)).all()
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def within_lesson(session: Session, lesson_id: int) -> ColumnElement[bool]:
    """The condition for a lesson's observations up to its end (all of them while it runs)."""
    ended_at = session.scalar(select(LessonSession.ended_at).where(LessonSession.id == lesson_id))
    condition = ObservationRow.session_id == lesson_id
    return and_(condition, ObservationRow.ts <= ended_at) if ended_at is not None else condition


def emotion_shares(frame: pd.DataFrame, window: str = "10s") -> pd.DataFrame:
    """Class mood per time window: mean probability of each emotion over the window's observations.

    Columns: window (start time), the seven labels (rows sum to 1), observations, participants.
    Observations with no emotion (attention-only) count toward presence but not toward mood.
    """
    columns = ["window", *EMOTIONS, "observations", "participants"]
    scored = frame.dropna(subset=[PROBABILITY_COLUMNS[0]]) if len(frame) else frame
    if scored.empty:
        return pd.DataFrame(columns=columns)
    grouped = scored.groupby(scored["ts"].dt.floor(window))
    out = grouped[list(PROBABILITY_COLUMNS)].mean().rename(columns=LABEL_OF_COLUMN)
    out["observations"] = grouped.size()
    out["participants"] = grouped["participant_id"].nunique()
    return out.reset_index(names="window")[columns]


ATTENTION_COLUMNS = ["window", *ATTENTION_STATES, "observations", "participants"]


def attention_shares(frame: pd.DataFrame, window: str = "10s") -> pd.DataFrame:
    """Per window, the share of observations in each attention state, which partition them: attentive (eyes open,
    facing the screen), looking down (reading or writing), looking away (turned aside or up), eyes closed. Only
    observations that carry attention signals count; records from before looking down was told apart count it
    as neither."""
    if frame.empty or "extras" not in frame:
        return pd.DataFrame(columns=ATTENTION_COLUMNS)
    signals = frame["extras"].dropna().map(lambda text: AttentionSignals.from_dict(json.loads(text))).dropna()
    if signals.empty:
        return pd.DataFrame(columns=ATTENTION_COLUMNS)
    states = signals.map(lambda s: s.state)
    rows = frame.loc[signals.index, ["ts", "participant_id"]].assign(
        **{state: states == state for state in ATTENTION_STATES})
    grouped = rows.groupby(rows["ts"].dt.floor(window))
    out = grouped[list(ATTENTION_STATES)].mean()
    out["observations"] = grouped.size()
    out["participants"] = grouped["participant_id"].nunique()
    return out.reset_index(names="window")[ATTENTION_COLUMNS]


def participant_timeline(session: Session, lesson_id: int, participant_id: int) -> pd.DataFrame:
    """One participant's observations with their dominant label, oldest first."""
    return observations_frame(session, lesson_id, participant_id=participant_id)


@dataclass(frozen=True)
class SessionSummary:
    """What a lesson amounted to."""

    lesson_id: int
    title: str
    started_at: datetime | None
    ended_at: datetime | None
    observations: int
    participants: int
    first_observation: datetime | None
    last_observation: datetime | None
    mean_probabilities: dict[str, float]
    dominant_shares: dict[str, float]  # share of observations whose top label is each emotion

    @property
    def dominant(self) -> str | None:
        return max(self.mean_probabilities, key=self.mean_probabilities.__getitem__) if self.mean_probabilities else None


def session_summary(session: Session, lesson_id: int) -> SessionSummary:
    """Counts, time span and average class mood of one lesson."""
    lesson = session.get(LessonSession, lesson_id)
    if lesson is None:
        raise LookupError(f"no lesson session with id {lesson_id}")
    where = within_lesson(session, lesson_id)
    n, first, last = session.execute(
        select(func.count(ObservationRow.id), func.min(ObservationRow.ts), func.max(ObservationRow.ts)).where(where)
    ).one()
    means = session.execute(select(*(func.avg(getattr(ObservationRow, c)) for c in PROBABILITY_COLUMNS)).where(where)).one()
    labels = dict(session.execute(select(ObservationRow.label, func.count()).where(where, ObservationRow.label.is_not(None))
                                  .group_by(ObservationRow.label)).all())
    scored = sum(labels.values())
    participants = session.scalar(select(func.count(Participant.id)).where(Participant.session_id == lesson_id)) or 0
    return SessionSummary(
        lesson_id, lesson.title, lesson.started_at, lesson.ended_at, int(n), int(participants), first, last,
        {label: float(m) for label, m in zip(EMOTIONS, means) if m is not None},
        {label: labels.get(label, 0) / scored for label in EMOTIONS} if scored else {},
    )
