"""Session exports: observations and per-minute aggregates as CSV, with pseudonymous ids only."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.queries import emotion_shares, observations_frame
from db.schema import PROBABILITY_COLUMNS, Participant

EXPORT_COLUMNS = ["ts", "participant", "track_id", "label", "confidence", *PROBABILITY_COLUMNS, "model_name", "extras"]


def pseudonyms(session: Session, lesson_id: int) -> dict[int, str]:
    return dict(session.execute(select(Participant.id, Participant.pseudonym)
                                .where(Participant.session_id == lesson_id)).tuples().all())


def observations_export(session: Session, lesson_id: int) -> pd.DataFrame:
    """Every observation of a lesson, the participant given by pseudonym (never the display name)."""
    frame = observations_frame(session, lesson_id)
    frame["participant"] = frame["participant_id"].map(pseudonyms(session, lesson_id))
    return frame[EXPORT_COLUMNS]


def minute_aggregates(session: Session, lesson_id: int) -> pd.DataFrame:
    """Per-minute class mood: mean probability of each emotion, observations and students per minute."""
    return emotion_shares(observations_frame(session, lesson_id), "1min")


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ").encode()
