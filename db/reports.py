"""Session exports as CSV: class figures per minute under the privacy rule, and, where a lesson may show
individuals, its observations with pseudonymous ids (never display names)."""
from __future__ import annotations

from datetime import tzinfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.class_figures import ClassFigures
from db.queries import observations_frame
from db.schema import PROBABILITY_COLUMNS, Participant

EXPORT_COLUMNS = ["ts", "participant", "track_id", "label", "confidence", *PROBABILITY_COLUMNS, "model_name", "extras"]


def pseudonyms(session: Session, lesson_id: int) -> dict[int, str]:
    return dict(session.execute(select(Participant.id, Participant.pseudonym)
                                .where(Participant.session_id == lesson_id)).tuples().all())


def observations_export(session: Session, lesson_id: int, zone: tzinfo) -> pd.DataFrame:
    """Every observation of a lesson, the participant given by pseudonym. Only for lessons whose figures may show
    individuals (the caller checks ClassFigures.individuals)."""
    frame = observations_frame(session, lesson_id)
    frame["participant"] = frame["participant_id"].map(pseudonyms(session, lesson_id))
    frame["ts"] = frame["ts"].dt.tz_convert(zone)
    return frame[EXPORT_COLUMNS]


def minutes_export(figures: ClassFigures, zone: tzinfo) -> pd.DataFrame:
    """Per minute that passes the privacy rule: each emotion's and attention signal's share, and the students."""
    table = figures.minutes_table()
    if not table.empty:
        table = table.assign(window=pd.to_datetime(table["window"], utc=True).dt.tz_convert(zone))
    return table


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with ISO 8601 times that carry their UTC offset."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(lambda ts: ts.isoformat(timespec="milliseconds"))
    return out.to_csv(index=False).encode()
