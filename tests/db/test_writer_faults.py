"""The observation writer under faults: every accepted record is written, refused or counted as dropped, and nothing
is dropped while the queue has room."""
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.lessons import end_lesson
from db.retention import delete_participant_data
from db.schema import LessonSession, ObservationRow
from db.session import open_database
from db.writer import ObservationWriter, WriterStats
from tests.db.conftest import make_observation
from tests.db.test_writer import count, lesson_with_participants

pytestmark = pytest.mark.faults


def assert_nothing_lost(stats: WriterStats, stored: int) -> None:
    assert stats.queued == 0
    assert stats.written == stored
    assert stats.submitted == stats.written + stats.refused + stats.failed  # accepted = stored + refused + failed
    assert stats.dropped == 0 and stats.failed == 0


@pytest.mark.parametrize("seconds", [10, 60])
def test_a_database_locked_for_a_long_time_loses_nothing(tmp_path, seconds: int) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'locked.db'}")
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    writer = ObservationWriter(sessions, batch_size=50)
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # another process holding the write lock
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            assert writer.submit(lesson_id, pid, make_observation())
            time.sleep(0.02)
        conn.exec_driver_sql("COMMIT")
    assert writer.flush(timeout=30)
    writer.close()
    print(f"locked {seconds} s: {writer.stats}")
    assert_nothing_lost(writer.stats, count(sessions))


class FailingFor:
    """A session factory whose transactions fail like a full disk for the first `seconds`."""

    def __init__(self, sessions: sessionmaker[Session], seconds: float) -> None:
        self._sessions, self._until = sessions, time.monotonic() + seconds

    def begin(self):  # type: ignore[no-untyped-def]
        if time.monotonic() < self._until:
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        return self._sessions.begin()


def test_a_full_disk_loses_nothing_once_space_returns(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    writer = ObservationWriter(FailingFor(sessions, 3.0), batch_size=20)  # type: ignore[arg-type]
    for _ in range(500):
        assert writer.submit(lesson_id, pid, make_observation())
        time.sleep(0.005)
    assert writer.flush(timeout=30)
    writer.close()
    assert_nothing_lost(writer.stats, count(sessions))


def test_closing_while_the_database_is_down_counts_what_is_dropped(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    writer = ObservationWriter(FailingFor(sessions, 3600), batch_size=10)  # type: ignore[arg-type]
    for _ in range(100):
        writer.submit(lesson_id, pid, make_observation())
    writer.close(timeout=1.0)
    stats = writer.stats
    assert stats.written == 0 and stats.dropped == 100 and stats.queued == 0


def test_erasing_a_streaming_participant_costs_the_others_nothing(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, participants = lesson_with_participants(sessions, 4)
    erased = participants[0]
    writer = ObservationWriter(sessions, batch_size=40, flush_interval=0.05)
    accepted = {p: 0 for p in participants}
    stop = threading.Event()

    def stream(pid: int) -> None:
        while not stop.is_set():
            accepted[pid] += writer.submit(lesson_id, pid, make_observation())
            time.sleep(0.002)

    threads = [threading.Thread(target=stream, args=(p,)) for p in participants]
    for t in threads:
        t.start()
    time.sleep(1.0)
    with sessions.begin() as s:
        delete_participant_data(s, erased)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    writer.close()
    stats = writer.stats
    with sessions() as s:
        stored = dict(s.execute(select(ObservationRow.participant_id, func.count())
                                .group_by(ObservationRow.participant_id)).tuples().all())
    assert erased not in stored
    assert all(stored[p] == accepted[p] for p in participants[1:])  # nobody else lost a row
    assert stats.failed == 0 and stats.dropped == 0 and stats.refused > 0
    assert stats.written + stats.refused == stats.submitted  # the erased one's earlier rows went with the erasure


def test_no_observation_is_stored_after_its_lesson_ended(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    with sessions.begin() as s:
        end_lesson(s, s.get(LessonSession, lesson_id))
    with sessions() as s:
        ended = s.get(LessonSession, lesson_id).ended_at
    ended = ended if ended.tzinfo else ended.replace(tzinfo=UTC)
    writer = ObservationWriter(sessions)
    writer.submit(lesson_id, pid, make_observation(ts=ended - timedelta(seconds=1)))
    writer.submit(lesson_id, pid, make_observation(ts=ended + timedelta(seconds=1)))
    writer.submit(lesson_id, pid, make_observation(ts=datetime.now(UTC) + timedelta(seconds=5)))
    writer.close()
    assert writer.stats.written == 1 and writer.stats.refused == 2 and count(sessions) == 1


@pytest.mark.postgres
def test_postgresql_stopped_and_restarted_mid_load_loses_nothing() -> None:
    from tests.postgres import fresh_database, pg_bin, postgres_server, stop_and_start

    if pg_bin() is None:
        pytest.fail("PostgreSQL is not installed (bash scripts/test.sh installs it as root on Debian)")
    with postgres_server() as admin:
        _engine, sessions = open_database(fresh_database(admin))
        lesson_id, participants = lesson_with_participants(sessions, 3)
        writer = ObservationWriter(sessions, batch_size=20, flush_interval=0.05)
        stop = threading.Event()

        def stream(pid: int) -> None:
            while not stop.is_set():
                assert writer.submit(lesson_id, pid, make_observation())
                time.sleep(0.01)

        threads = [threading.Thread(target=stream, args=(p,)) for p in participants]
        for t in threads:
            t.start()
        time.sleep(1.0)
        stop_and_start(admin, down_seconds=5.0)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()
        assert writer.flush(timeout=60)
        writer.close()
        print(f"PostgreSQL down 5 s: {writer.stats}")
        assert_nothing_lost(writer.stats, count(sessions))


def test_a_really_full_disk_loses_nothing_once_space_is_freed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On an 8 MiB tmpfs where the test may mount one (root on Linux); elsewhere the same through a simulated
    'database or disk is full'."""
    import subprocess

    disk = tmp_path / "small"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True).returncode == 0
    try:
        _engine, sessions = open_database(f"sqlite:///{disk / 'full.db'}")
        lesson_id, (pid,) = lesson_with_participants(sessions, 1)
        filler = disk / "filler"
        if mounted:
            with filler.open("wb") as f:  # leave the database almost no room
                try:
                    f.write(b"\0" * (8 * 2**20))
                except OSError:
                    pass
        writer = ObservationWriter(sessions if mounted else FailingFor(sessions, 3.0), batch_size=50)  # type: ignore[arg-type]
        for _ in range(1000):
            assert writer.submit(lesson_id, pid, make_observation())
        time.sleep(2.0)
        stuck = writer.stats
        if mounted:
            assert stuck.written < 1000  # the disk really filled up
            filler.unlink()
        assert writer.flush(timeout=60)
        writer.close()
        print(f"full disk ({'tmpfs' if mounted else 'simulated'}): before freeing {stuck}, after {writer.stats}")
        assert_nothing_lost(writer.stats, count(sessions))
    finally:
        if mounted:
            _engine.dispose()
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_writing_process_terminated_and_restarted_keeps_what_it_accepted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    url = f"sqlite:///{tmp_path / 'restart.db'}"
    engine, sessions = open_database(url)
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)

    def run_process(count: int, locked_for: float) -> int:
        with engine.connect() as conn:
            if locked_for:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # its rows are still queued when it is told to stop
            child = subprocess.Popen([sys.executable, "-m", "tests.db.writer_process", url, str(lesson_id), str(pid),
                                      str(count)], cwd=REPO, stdout=subprocess.PIPE, text=True)
            assert child.stdout is not None
            accepted = int(child.stdout.readline())
            child.send_signal(signal.SIGTERM)
            if locked_for:
                time.sleep(locked_for)
                conn.exec_driver_sql("COMMIT")
        assert child.wait(timeout=60) == 0
        return accepted

    first = run_process(500, locked_for=2.0)
    second = run_process(300, locked_for=0.0)  # the restarted process goes on writing
    assert first == 500 and second == 300 and count(sessions) == 800
