"""Staff sign-in sessions and passwords."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import Account, authenticate, change_password
from db.schema import User
from db.staff_sessions import open_session, resolve, revoke, revoke_all


class Staff:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def signed_in(self, token: str) -> Account | None:
        """The account a session token belongs to, if the session and the account are still valid."""
        with self.sessions() as s:
            return resolve(s, token)

    def sign_in(self, username: str, password: str, client: str) -> str:
        """A new session's token; raises AccountError with a message safe to show (wrong password, slowed down)."""
        with self.sessions.begin() as s:
            account = authenticate(s, username, password, client=client)
        with self.sessions.begin() as s:
            return open_session(s, account.username)

    def sign_out(self, token: str | None) -> None:
        with self.sessions.begin() as s:
            revoke(s, token)

    def change_password(self, username: str, current: str, new: str, *, client: str, keep: str | None) -> int:
        """Change a password and sign out the account's other browsers (all but the session `keep`); how many."""
        with self.sessions.begin() as s:
            change_password(s, username, current, new, client=client)
            return revoke_all(s, username, keep=keep)

    def no_accounts(self) -> bool:
        """True before the first account exists (the sign-in page then says how to create one)."""
        with self.sessions() as s:
            return not s.scalar(select(func.count(User.id)))
