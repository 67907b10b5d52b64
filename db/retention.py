"""Retention: observations older than N days are deleted (by this command and at app start-up).

python -m db.retention [--days N] [--db URL]
"""
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from db.schema import ObservationRow, Participant


def purge_older_than(session: Session, days: int, now: datetime | None = None) -> int:
    """Delete observations older than `days` days; returns how many. `days` <= 0 keeps everything."""
    if days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    result = session.execute(delete(ObservationRow).where(ObservationRow.ts < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_participant_data(session: Session, participant_id: int) -> int:
    """Remove one participant and all their observations; returns the observations deleted."""
    result = session.execute(delete(ObservationRow).where(ObservationRow.participant_id == participant_id))
    session.execute(delete(Participant).where(Participant.id == participant_id))
    return int(getattr(result, "rowcount", 0) or 0)


def main(argv: list[str] | None = None) -> int:
    from db.session import open_database
    from settings import Settings

    settings = Settings.from_env()
    p = argparse.ArgumentParser(prog="python -m db.retention", description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=settings.retention_days, help="default: ENGAGE_RETENTION_DAYS")
    p.add_argument("--db", default=settings.resolved_database_url)
    args = p.parse_args(argv)
    _engine, sessions = open_database(args.db)
    with sessions.begin() as s:
        deleted = purge_older_than(s, args.days)
    print(f"deleted {deleted} observations older than {args.days} days" if args.days > 0 else "retention is off (--days 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
