"""A throwaway PostgreSQL server for the `postgres` tests: own data folder, Unix socket only, no TCP."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_owner(cmd: list[str]) -> list[str]:
    # the server refuses to run as root; Debian's package creates the `postgres` user
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


_SERVERS: dict[str, tuple[Path, Path, Path, Path]] = {}  # admin URL -> binaries, data, root, socket folder


def stop_and_start(admin_url: str, down_seconds: float) -> None:
    """Stop a server `postgres_server` started (fast shutdown: clients are cut off), wait, start it again."""
    import time

    binaries, data, root, sock = _SERVERS[admin_url]
    ctl = str(binaries / "pg_ctl")
    subprocess.run(_as_owner([ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), check=True, capture_output=True)
    time.sleep(down_seconds)
    subprocess.run(_as_owner([ctl, "-D", str(data), "-w", "-l", str(root / "log"),
                              "-o", f"-k {sock} -c listen_addresses='' -c fsync=off", "start"]),
                   check=True, capture_output=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server in a temporary folder; yields an admin URL for its `postgres` database."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="engage-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    try:
        subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "engage"]),
                       check=True, capture_output=True)
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
                                  "-o", f"-k {sock} -c listen_addresses='' -c fsync=off", "start"]),
                       check=True, capture_output=True)
        url = f"postgresql+psycopg://engage@/postgres?host={sock}"
        _SERVERS[url] = (binaries, data, root, sock)
        yield url
    finally:
        _SERVERS.pop(f"postgresql+psycopg://engage@/postgres?host={sock}", None)
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.replace("/postgres?", f"/{name}?")
