"""Slowing down guessing: each attempt on a key (a username, a username from one client, a client address) is
counted before it is checked, in one atomic statement, and after a few the key must wait, doubling each time.

`blocked_until` doubles as the time of the last attempt (it is never earlier), so a key that has been quiet for
`FORGET_AFTER` starts afresh and retention can delete rows nobody has used for a day.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.schema import Attempt, aware

FREE_FAILURES = 5  # mistypes allowed before any wait
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)



def claim(session: Session, key: str, now: datetime, *, free: int = FREE_FAILURES,
          max_wait: timedelta = MAX_WAIT) -> float:
    """Count one attempt on `key` and return 0.0 if it may go ahead, else the seconds it must still wait (and then
    it is not counted). Runs in a short transaction of its own, before the caller's session has done anything, so
    that a request never holds two connections and the count survives the caller's rollback. Parallel attempts
    are serialised by the database's row (PostgreSQL) or file (SQLite) lock on the UPDATE."""
    bind = session.get_bind()
    for _ in range(5):
        try:
            with Session(bind) as own, own.begin():
                wait = _claim(own, key, now, free, max_wait)
        except IntegrityError:
            continue  # two first attempts made the row at once: count this one against it
        if wait is not None:
            return wait
    return 0.0


def _claim(own: Session, key: str, now: datetime, free: int, max_wait: timedelta) -> float | None:
    """0.0 when counted, the wait when blocked, None when the row appeared meanwhile (try again)."""
    counted = own.execute(  # type: ignore[attr-defined]
        update(Attempt)
        .where(Attempt.key == key, or_(Attempt.blocked_until.is_(None), Attempt.blocked_until <= now))
        .values(failures=case((Attempt.blocked_until < now - FORGET_AFTER, 1), else_=Attempt.failures + 1),
                blocked_until=now)
    ).rowcount
    if counted:
        failures = own.scalar(select(Attempt.failures).where(Attempt.key == key)) or 0
        if failures > free:
            wait = min(timedelta(seconds=2 ** min(failures - free, 20)), max_wait)
            own.execute(update(Attempt).where(Attempt.key == key).values(blocked_until=now + wait))
        return 0.0
    existing = own.get(Attempt, key)
    if existing is not None:
        # The UPDATE did not count it: blocked, or (PostgreSQL, read committed) made by another attempt after the
        # UPDATE's snapshot; then it must be counted by a new UPDATE, never let through uncounted.
        remaining = (aware(existing.blocked_until) - now).total_seconds() if existing.blocked_until else 0.0
        return remaining if remaining > 0 else None
    own.add(Attempt(key=key, failures=1, blocked_until=now))
    own.flush()
    return 0.0


def reset(session: Session, *keys: str) -> None:
    """Forget the attempts on `keys` (after a success), in the caller's transaction."""
    session.execute(delete(Attempt).where(Attempt.key.in_(keys)))


def reset_everywhere(session: Session, key: str) -> None:
    """Forget the attempts on `key` and on its per-client keys (`key|client`), in the caller's transaction."""
    session.execute(delete(Attempt).where(or_(Attempt.key == key, Attempt.key.startswith(f"{key}|", autoescape=True))))


def purge_idle(session: Session, now: datetime, idle: timedelta = timedelta(days=1)) -> int:
    """Delete keys (they hold usernames and client addresses) unused for `idle`; returns how many."""
    result = session.execute(delete(Attempt).where(or_(Attempt.blocked_until.is_(None), Attempt.blocked_until < now - idle)))
    return int(getattr(result, "rowcount", 0) or 0)
