"""Teacher and admin accounts: argon2 password hashes, throttled logins, password changes and resets, disabling
(the command line is cli/accounts.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import User
from db.throttle import claim, reset, reset_everywhere

ROLES: tuple[str, ...] = ("teacher", "admin")
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MAX_USERNAME_INPUT = 80  # longer input cannot be an account; cut it so throttle keys fit their column
ANYWHERE_FREE = 20  # attempts on one username from all clients together before any wait
ANYWHERE_MAX_WAIT = timedelta(minutes=1)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")  # verified against for unknown users, so timing does not tell


class AccountError(ValueError):
    """A refused account operation or login; the message is safe to show."""


@dataclass(frozen=True)
class Account:
    """Who is signed in."""

    username: str
    role: str
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def create_user(session: Session, username: str, password: str, role: str) -> Account:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError("usernames are 2-80 lower-case letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"role must be one of {ROLES}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    session.add(User(username=username, password_hash=_hasher.hash(password), role=role, created_at=datetime.now(UTC)))
    session.flush()
    return Account(username, role)


def authenticate(session: Session, username: str, password: str, now: datetime | None = None,
                 client: str = "") -> Account:
    """The account for these credentials. Every attempt is counted before the password is checked: per username
    from this client (a few free, then waits doubling up to 15 minutes) and per username from anywhere (more free,
    waits of at most a minute), so guessing is slowed everywhere while an attacker elsewhere cannot lock a teacher
    out of their own computer for long."""
    now = now or datetime.now(UTC)
    username = username.strip().lower()[:MAX_USERNAME_INPUT]
    keys = (f"login:{username}|{client}", f"login:{username}")
    wait = max(claim(session, keys[0], now), claim(session, keys[1], now, free=ANYWHERE_FREE, max_wait=ANYWHERE_MAX_WAIT))
    if wait > 0:
        raise AccountError(f"too many failed attempts; try again in {int(wait) + 1} s")
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        if user is None:
            raise VerificationError("unknown user")
    except VerificationError:
        raise AccountError("wrong username or password") from None
    if user.disabled_at is not None:
        raise AccountError("this account is disabled; ask an administrator")
    reset(session, *keys)
    return account_of(user)


def account_of(user: User) -> Account:
    return Account(user.username, user.role, user.disabled_at is not None)


def list_accounts(session: Session) -> list[Account]:
    return [account_of(u) for u in session.scalars(select(User).order_by(User.username))]


def change_password(session: Session, username: str, current: str, new: str, client: str = "") -> None:
    """Change one's own password (the current one is checked, and throttled like a sign-in). The caller ends the
    account's other sessions (db.staff_sessions.revoke_all)."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if new == current:
        raise AccountError("the new password is the same as the current one")
    authenticate(session, username, current, client=client)
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None  # authenticate found it
    user.password_hash = _hasher.hash(new)


def set_password(session: Session, username: str, new: str, by: str | None = None) -> None:
    """An administrator sets a new password for someone who has forgotten theirs (`by`: the admin, None from the
    command line); their own goes through change_password, which asks for the current one. The caller ends the
    account's sessions (db.staff_sessions.revoke_all); the failed sign-ins counted against the name are forgiven."""
    username = username.strip().lower()
    if by is not None and username == by:
        raise AccountError("change your own password on the Your account page")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no account {username!r}")
    user.password_hash = _hasher.hash(new)
    reset_everywhere(session, f"login:{username}")


def set_disabled(session: Session, username: str, disabled: bool, by: str) -> None:
    """Disable (or enable again) an account; an admin cannot disable their own, nor the last enabled admin."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no account {username!r}")
    if disabled and username == by:
        raise AccountError("you cannot disable your own account")
    if disabled and user.role == "admin":
        admins = session.scalars(select(User).where(User.role == "admin", User.disabled_at.is_(None))).all()
        if len(admins) <= 1:
            raise AccountError("this is the last enabled admin account")
    user.disabled_at = datetime.now(UTC) if disabled else None


def ensure_admin(session: Session, username: str, password: str) -> bool:
    """Create the first admin from settings when it does not exist yet; True if created."""
    if not username or session.scalar(select(User).where(User.username == username.strip().lower())) is not None:
        return False
    create_user(session, username, password, "admin")
    return True
