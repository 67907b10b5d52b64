"""Apply retention now (the app also does at start-up): python -m cli.retention [--days N] [--db URL]"""
from __future__ import annotations

import argparse
import sys

from db.retention import purge_personal_data


def main(argv: list[str] | None = None) -> int:
    from db.session import open_database
    from settings import Settings

    settings = Settings.from_env()
    p = argparse.ArgumentParser(prog="python -m cli.retention", description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=settings.retention_days, help="default: ENGAGE_RETENTION_DAYS")
    p.add_argument("--db", default=settings.resolved_database_url)
    args = p.parse_args(argv)
    _engine, sessions = open_database(args.db)
    with sessions.begin() as s:
        purged = purge_personal_data(s, args.days)
    print(f"deleted {purged} (lessons and observations older than {args.days} days, throttle rows idle for a day)"
          if args.days > 0 else f"retention of lessons and observations is off (--days 0); deleted {purged.attempts} throttle rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
