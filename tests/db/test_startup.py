"""db.startup: what every app process (and dashboard.serve, before its instances) does to the database first."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select

from db.schema import User
from db.startup import prepare_database


def test_a_fresh_file_gets_its_tables_and_first_admin_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'engage.db'}"
    engine, sessions = prepare_database(url, "Root", "a long admin password", retention_days=30)
    assert {"users", "observations", "lesson_sessions"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    engine, sessions = prepare_database(url, "root", "a long admin password", retention_days=30)  # a second process
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert s.scalar(select(User.role)) == "admin"
    engine.dispose()


def test_without_an_admin_setting_no_account_is_made(tmp_path: Path) -> None:
    engine, sessions = prepare_database(f"sqlite:///{tmp_path / 'engage.db'}", "", "", retention_days=0)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
    engine.dispose()
