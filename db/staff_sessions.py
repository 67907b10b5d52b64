"""Server-side sign-in sessions for staff: a random token lives in the browser's cookie, only its SHA-256 here.

A session ends when it expires, when its browser signs out, when its account's password changes, or when the
account is disabled; `resolve` checks all of these on every use, so none of them waits for an expiry.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.accounts import Account, account_of
from db.schema import StaffSession, User, aware

SESSION_LIFETIME = timedelta(hours=12)  # a school day; signing in again the next morning is expected


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, username: str, now: datetime | None = None,
                 lifetime: timedelta = SESSION_LIFETIME) -> str:
    """A new session for an (already authenticated) account; returns the token for the cookie."""
    now = now or datetime.now(UTC)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LookupError(f"no account {username!r}")
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def resolve(session: Session, token: str | None, now: datetime | None = None) -> Account | None:
    """The account a cookie's token signs in, or None (unknown, expired, revoked, or the account disabled)."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(UTC)
    row = session.execute(select(StaffSession, User).join(User, User.id == StaffSession.user_id)
                          .where(StaffSession.token_hash == token_hash(token))).first()
    if row is None:
        return None
    staff, user = row
    if staff.revoked_at is not None or aware(staff.expires_at) <= now or user.disabled_at is not None:
        return None
    return account_of(user)


def revoke(session: Session, token: str | None, now: datetime | None = None) -> bool:
    """Sign one browser out; True if its session was live."""
    if not token:
        return False
    result = session.execute(update(StaffSession).where(StaffSession.token_hash == token_hash(token),
                                                        StaffSession.revoked_at.is_(None))
                             .values(revoked_at=now or datetime.now(UTC)))
    return bool(getattr(result, "rowcount", 0))


def revoke_all(session: Session, username: str, now: datetime | None = None, keep: str | None = None) -> int:
    """Sign every browser of an account out (but the one holding `keep`); returns how many were live."""
    user_id = session.scalar(select(User.id).where(User.username == username))
    query = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if keep:
        query = query.where(StaffSession.token_hash != token_hash(keep))
    result = session.execute(query.values(revoked_at=now or datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_ended(session: Session, now: datetime | None = None) -> int:
    """Delete sessions that expired or were revoked (retention calls this)."""
    now = now or datetime.now(UTC)
    result = session.execute(delete(StaffSession).where((StaffSession.expires_at <= now)
                                                        | StaffSession.revoked_at.is_not(None)))
    return int(getattr(result, "rowcount", 0) or 0)

