"""Engine and session factory: SQLite with WAL by default, any SQLAlchemy URL otherwise."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from db.schema import Base


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer thread
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back to 64 MiB after each checkpoint
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and WAL turned on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Create the tables that do not exist yet, and the nullable columns a table made by an earlier version lacks."""
    Base.metadata.create_all(engine)
    add_missing_columns(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """ALTER TABLE … ADD COLUMN for each nullable column of the schema that an existing table lacks (the only kind
    of change the schema makes to an existing table); returns them as table.column."""
    present = inspect(engine)
    added = []
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in present.get_columns(table.name)}
        for column in table.columns:
            if column.name in have or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
            added.append(f"{table.name}.{column.name}")
    return added


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class DatabaseUnavailable(ValueError):
    """The URL is not a database URL, or the database cannot be opened; the message is one line."""


def connect(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """`open_database`, with every way it can fail (a bad URL, a missing driver, an unreachable server, a folder
    that cannot be made) as one DatabaseUnavailable, for entry points that must report it in one line."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        return open_database(url)
    except ArgumentError:
        raise DatabaseUnavailable(f"{url!r} is not a database URL (e.g. sqlite:///lessons.db)") from None
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        raise unavailable(url, exc) from None


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """`exc`, met while using the database at `url`, as one line."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return DatabaseUnavailable(f"cannot use the database {url!r} ({detail})")


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine, tables and session factory in one call, for entry points."""
    engine = make_engine(url)
    init_db(engine)
    return engine, session_factory(engine)
