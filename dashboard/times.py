"""Times as people read them: in the school's time zone (Settings.zone), always labelled with it."""
from __future__ import annotations

from datetime import datetime, tzinfo

import pandas as pd

from db.schema import aware


def zone_name(zone: tzinfo) -> str:
    """The zone's IANA name (Europe/Berlin) where it has one, else its abbreviation (UTC)."""
    return str(getattr(zone, "key", None) or datetime.now(zone).tzname() or "UTC")


def in_zone(frame: pd.DataFrame, column: str, zone: tzinfo) -> pd.DataFrame:
    """A copy of `frame` whose `column` (UTC timestamps) reads in `zone`; charts then show the local wall time."""
    if frame.empty or column not in frame:
        return frame
    stamps = pd.to_datetime(frame[column], utc=True)
    return frame.assign(**{column: stamps.dt.tz_convert(zone)})


def stamp(ts: datetime | None, zone: tzinfo, with_zone: bool = True) -> str:
    """'2026-11-29 09:05 CET' (naive times are taken as UTC, as SQLite returns them); '–' for None."""
    if ts is None:
        return "–"
    local = aware(ts).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M") + (f" {local.tzname()}" if with_zone else "")
