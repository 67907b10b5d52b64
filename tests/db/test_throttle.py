import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.accounts import AccountError, authenticate, create_user
from db.schema import Attempt
from db.throttle import FREE_FAILURES, claim

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_parallel_guesses_are_each_counted_and_only_the_free_ones_checked(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    allowed: list[float] = []
    errors: list[BaseException] = []

    def guess() -> None:
        try:
            with sessions() as s:
                allowed.append(claim(s, "login:ada|10.0.0.5", T0))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert allowed.count(0.0) == FREE_FAILURES + 1  # five free, the sixth counted and then the waiting begins
    with sessions() as s:
        assert s.scalar(select(Attempt.failures).where(Attempt.key == "login:ada|10.0.0.5")) == FREE_FAILURES + 1


def test_a_guesser_elsewhere_cannot_lock_a_teacher_out_of_their_own_computer(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "correct horse battery", "teacher")
    for i in range(15):
        with sessions() as s, pytest.raises(AccountError):
            authenticate(s, "ada", "guess", now=T0 + timedelta(seconds=i * 600), client="203.0.113.9")
    later = T0 + timedelta(seconds=15 * 600)
    with sessions() as s, pytest.raises(AccountError, match="too many"):  # the guesser waits
        authenticate(s, "ada", "guess", now=later, client="203.0.113.9")
    with sessions.begin() as s:  # the teacher at school does not
        assert authenticate(s, "ada", "correct horse battery", now=later, client="10.0.0.5").username == "ada"


def test_guessing_from_many_clients_is_capped_per_username(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "correct horse battery", "teacher")
    for i in range(21):
        with sessions() as s, pytest.raises(AccountError, match="wrong"):
            authenticate(s, "ada", "guess", now=T0, client=f"198.51.100.{i}")
    with sessions() as s, pytest.raises(AccountError, match="too many"):
        authenticate(s, "ada", "guess", now=T0, client="198.51.100.200")
    with sessions.begin() as s:  # the wait from anywhere is short
        assert authenticate(s, "ada", "correct horse battery", now=T0 + timedelta(minutes=1), client="10.0.0.5")


def test_an_overlong_username_is_a_wrong_login_not_a_database_error(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions() as s, pytest.raises(AccountError, match="wrong username or password"):
        authenticate(s, "x" * 300, "guess", client="10.0.0.5")
