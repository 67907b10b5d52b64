"""Server-side staff sessions: only the token's hash is stored; expiry, sign-out, password change and a disabled
account each end a session at once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.accounts import Account, create_user, set_disabled
from db.schema import StaffSession
from db.staff_sessions import SESSION_LIFETIME, open_session, purge_ended, resolve, revoke, revoke_all, token_hash

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_a_session_lives_until_it_expires_and_only_its_hash_is_stored(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "a long test password", "teacher")
        token = open_session(s, "ada", now=T0)
    with sessions() as s:
        stored = s.scalars(select(StaffSession.token_hash)).all()
        assert stored == [token_hash(token)] and token not in stored and len(token) >= 40
        assert resolve(s, token, T0 + SESSION_LIFETIME - timedelta(seconds=1)) == Account("ada", "teacher")
        assert resolve(s, token, T0 + SESSION_LIFETIME) is None
        assert resolve(s, token[:-1] + ("A" if token[-1] != "A" else "B"), T0) is None
        assert resolve(s, None) is None and resolve(s, "x" * 1000) is None


def test_sign_out_password_change_and_disabling_end_sessions(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "a long test password", "teacher")
        create_user(s, "root", "a long test password", "admin")
        laptop, phone, tablet = (open_session(s, "ada", now=T0) for _ in range(3))
    with sessions.begin() as s:
        assert revoke(s, laptop) and not revoke(s, laptop)
        assert resolve(s, laptop, T0) is None and resolve(s, phone, T0) is not None
        assert revoke_all(s, "ada", keep=phone) == 1  # the tablet; the phone changed the password
        assert resolve(s, tablet, T0) is None and resolve(s, phone, T0) is not None
        set_disabled(s, "ada", True, by="root")
        assert resolve(s, phone, T0) is None
        set_disabled(s, "ada", False, by="root")
        assert resolve(s, phone, T0) is not None  # enabling again restores sessions that were not revoked
        assert purge_ended(s, T0) == 2
        assert len(s.scalars(select(StaffSession)).all()) == 1
