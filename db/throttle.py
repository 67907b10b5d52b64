"""Slowing down guessing: after a few failures a key (a username, a client address) must wait, doubling each time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from db.schema import Attempt

FREE_FAILURES = 5  # mistypes allowed before any wait
MAX_WAIT = timedelta(minutes=15)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # SQLite returns naive UTC times


def wait_seconds(session: Session, key: str, now: datetime) -> float:
    """Seconds `key` must still wait before its next attempt (0: go ahead)."""
    attempt = session.get(Attempt, key)
    if attempt is None or attempt.blocked_until is None:
        return 0.0
    return max((_aware(attempt.blocked_until) - now).total_seconds(), 0.0)


def record_failure(session: Session, key: str, now: datetime) -> None:
    """Count a failure in a transaction of its own, so the caller's rollback (it is about to raise) keeps it.

    Call it before the caller's transaction has written anything: SQLite allows one writer at a time.
    """
    with Session(session.get_bind()) as own, own.begin():
        attempt = own.get(Attempt, key) or Attempt(key=key, failures=0)
        own.add(attempt)
        attempt.failures += 1
        if attempt.failures > FREE_FAILURES:
            wait = min(timedelta(seconds=2 ** (attempt.failures - FREE_FAILURES)), MAX_WAIT)
            attempt.blocked_until = now + wait
    session.expire_all()  # let the caller's session see the new count


def record_success(session: Session, key: str) -> None:
    attempt = session.get(Attempt, key)
    if attempt is not None:
        session.delete(attempt)
