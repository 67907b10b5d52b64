"""What an app process does to its database before serving: tables, the first admin, the retention purge."""
from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import ensure_admin
from db.retention import purge_older_than
from db.session import open_database

log = logging.getLogger(__name__)


def prepare_database(url: str, admin_username: str, admin_password: str,
                     retention_days: int) -> tuple[Engine, sessionmaker[Session]]:
    """Open the database, create missing tables, the first admin from the settings (if set and missing) and delete
    observations past retention. Safe to repeat: a second call finds everything done."""
    engine, sessions = open_database(url)
    if admin_username:
        with sessions.begin() as session:
            if ensure_admin(session, admin_username, admin_password):
                log.info("created the first admin account %r from the settings", admin_username)
    with sessions.begin() as session:
        purged = purge_older_than(session, retention_days)
    if purged:
        log.info("retention: deleted %d observations older than %d days", purged, retention_days)
    return engine, sessions
