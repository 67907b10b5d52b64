"""What an app process does to its database before serving: tables, the first admin, the retention purge."""
from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import AccountError, ensure_admin
from db.retention import purge_personal_data
from db.session import connect, unavailable

log = logging.getLogger(__name__)


class StartupError(ValueError):
    """A setting the database cannot be prepared with; the message names it."""


def prepare_database(url: str, admin_username: str, admin_password: str,
                     retention_days: int) -> tuple[Engine, sessionmaker[Session]]:
    """Open the database, create missing tables, the first admin from the settings (if set and missing) and apply
    retention. Safe to repeat: a second call finds everything done. Raises StartupError or DatabaseUnavailable (both
    one line) when a setting or the database cannot be used."""
    engine, sessions = connect(url)
    try:
        if admin_username:
            with sessions.begin() as session:
                if ensure_admin(session, admin_username, admin_password):
                    log.info("created the first admin account %r from the settings", admin_username)
        with sessions.begin() as session:
            purged = purge_personal_data(session, retention_days)
    except AccountError as exc:
        raise StartupError(f"ENGAGE_ADMIN_USERNAME / ENGAGE_ADMIN_PASSWORD: {exc}") from None
    except SQLAlchemyError as exc:
        raise unavailable(url, exc) from None
    if purged.observations or purged.lessons or purged.attempts:
        log.info("retention (%d days): deleted %s", retention_days, purged)
    return engine, sessions
