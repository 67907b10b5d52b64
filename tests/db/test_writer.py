import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.lessons import add_participant, create_lesson
from db.schema import ObservationRow
from db.writer import ObservationWriter, to_row
from tests.db.conftest import make_observation


def lesson_with_participants(sessions: sessionmaker[Session], n: int) -> tuple[int, list[int]]:
    with sessions.begin() as s:
        lesson = create_lesson(s, "Physics", start=True)
        return lesson.id, [add_participant(s, lesson, f"S{i}", consent=True).id for i in range(n)]


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count(ObservationRow.id))) or 0)


def test_rows_carry_the_seven_probabilities_and_the_box() -> None:
    row = to_row(__import__("db.writer", fromlist=["Record"]).Record(1, 2, make_observation("Sad")))
    assert row["label"] == "Sad" and row["p_sad"] == 0.7 and row["box_w"] == 30 and row["participant_id"] == 2


def test_attention_only_rows_have_no_probabilities() -> None:
    from db.writer import Record

    row = to_row(Record(1, None, make_observation(emotion=False)))
    assert row["label"] is None and row["p_happy"] is None


def test_many_threads_write_everything(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, participants = lesson_with_participants(sessions, 8)
    writer = ObservationWriter(sessions, batch_size=64)

    def stream(pid: int) -> None:
        for _ in range(250):
            assert writer.submit(lesson_id, pid, make_observation())

    threads = [threading.Thread(target=stream, args=(p,)) for p in participants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert writer.stats.written == 2000 and writer.stats.dropped == 0 and count(sessions) == 2000


def test_a_stopped_writer_refuses_and_counts_at_once(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    writer = ObservationWriter(sessions, max_queue=5)
    writer.close(timeout=1)  # a closed writer refuses at once: the submit path never waits
    assert writer.submit(lesson_id, pid, make_observation()) is False
    assert writer.stats.dropped == 1


def test_a_full_queue_drops_and_counts_instead_of_blocking(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    release = threading.Event()
    writer = ObservationWriter(sessions, max_queue=5, batch_size=1)
    original = writer._commit
    writer._commit = lambda batch: (release.wait(10), original(batch))[1]  # type: ignore[method-assign]
    results = [writer.submit(lesson_id, pid, make_observation()) for _ in range(20)]  # the writer is stuck
    assert results.count(False) >= 20 - 5 - 1 and writer.stats.dropped == results.count(False)
    release.set()
    writer.close()
    assert writer.stats.written == results.count(True) and count(sessions) == results.count(True)


def test_observations_survive_a_locked_sqlite_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from db.session import open_database

    engine, sessions = open_database(f"sqlite:///{tmp_path / 'locked.db'}")  # SQLite locks the whole file
    lesson_id, (pid,) = lesson_with_participants(sessions, 1)
    writer = ObservationWriter(sessions)
    with engine.connect() as conn:  # hold the write lock so the first attempts fail with "database is locked"
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        blocker = threading.Timer(0.6, conn.exec_driver_sql, args=("COMMIT",))
        blocker.start()
        for _ in range(10):
            writer.submit(lesson_id, pid, make_observation())
        blocker.join()
    writer.close(timeout=30)
    assert writer.stats.written == 10 and writer.stats.failed == 0 and count(sessions) == 10
