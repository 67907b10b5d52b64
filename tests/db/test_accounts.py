from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cli.accounts import main
from db.accounts import AccountError, authenticate, create_user, ensure_admin, list_accounts
from db.lessons import LessonError, create_lesson, lesson_by_code, lesson_for, visible_lessons
from db.schema import User

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_passwords_are_stored_as_argon2_hashes(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "Ada", "correct horse battery", "teacher")
    with sessions() as s:
        user = s.scalar(select(User))
    assert user.username == "ada" and user.password_hash.startswith("$argon2") and "horse" not in user.password_hash


@pytest.mark.parametrize("username, password, role, message", [
    ("a", "long enough password", "teacher", "usernames"),
    ("bob", "short", "teacher", "at least 10"),
    ("bob", "long enough password", "janitor", "role"),
])
def test_bad_accounts_are_refused(db, username: str, password: str, role: str, message: str) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s, pytest.raises(AccountError, match=message):
        create_user(s, username, password, role)


def test_login_and_the_same_error_for_unknown_users(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "correct horse battery", "admin")
    with sessions.begin() as s:
        assert authenticate(s, " ADA ", "correct horse battery").is_admin
    for name, password in (("ada", "wrong password!"), ("nobody", "correct horse battery")):
        with sessions() as s, pytest.raises(AccountError, match="wrong username or password"):
            authenticate(s, name, password)


def test_repeated_wrong_passwords_are_slowed_down_even_for_the_right_one(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "ada", "correct horse battery", "teacher")
    for _ in range(6):  # five free mistakes, then a wait
        with sessions() as s, pytest.raises(AccountError, match="wrong"):
            authenticate(s, "ada", "guess", now=T0)
    with sessions() as s, pytest.raises(AccountError, match="too many failed attempts"):
        authenticate(s, "ada", "correct horse battery", now=T0)
    with sessions.begin() as s:  # once the wait is over the right password works and clears the count
        assert authenticate(s, "ada", "correct horse battery", now=T0 + timedelta(seconds=3)).username == "ada"


def test_wrong_join_codes_are_slowed_down_per_client(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        code = create_lesson(s, "Art", start=True).join_code
    for _ in range(6):
        with sessions() as s, pytest.raises(LessonError, match="no running lesson"):
            lesson_by_code(s, "ZZZZZZ", client="10.0.0.7")
    with sessions() as s, pytest.raises(LessonError, match="too many wrong codes"):
        lesson_by_code(s, code, client="10.0.0.7")
    with sessions.begin() as s:  # another client is not affected
        assert lesson_by_code(s, code, client="10.0.0.8").title == "Art"


def test_a_teacher_cannot_open_another_teachers_lesson_by_guessing_its_id(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        mine = create_lesson(s, "Mine", owner="ada").id
        theirs = create_lesson(s, "Theirs", owner="bob").id
    with sessions() as s:
        assert lesson_for(s, mine, "ada", is_admin=False).title == "Mine"
        for guess in (theirs, theirs + 100):
            with pytest.raises(LessonError, match="no such lesson"):
                lesson_for(s, guess, "ada", is_admin=False)
        assert lesson_for(s, theirs, "root", is_admin=True).title == "Theirs"
        assert [x.title for x in visible_lessons(s, "ada", is_admin=False)] == ["Mine"]
        assert {x.title for x in visible_lessons(s, "root", is_admin=True)} == {"Mine", "Theirs"}


def test_first_admin_from_settings_is_created_once(db) -> None:  # type: ignore[no-untyped-def]
    _, sessions = db
    with sessions.begin() as s:
        assert ensure_admin(s, "root", "a long admin password")
        assert not ensure_admin(s, "root", "a long admin password")
        assert not ensure_admin(s, "", "")


def test_create_user_command(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("PW", "a long admin password")
    assert main(["--db", url, "create-user", "--username", "root", "--role", "admin", "--password-env", "PW"]) == 0
    assert main(["--db", url, "list"]) == 0
    assert "root\tadmin" in capsys.readouterr().out
    monkeypatch.setenv("PW", "short")
    assert main(["--db", url, "create-user", "--username", "bob", "--password-env", "PW"]) == 2


def test_password_change_and_disabling_are_checked(db) -> None:  # type: ignore[no-untyped-def]
    from db.accounts import change_password, set_disabled

    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "root", "a long test password", "admin")
        create_user(s, "ada", "a long test password", "teacher")
    for current, new, message in (("wrong password!", "a new long password", "wrong username or password"),
                                  ("a long test password", "short", "at least 10"),
                                  ("a long test password", "a long test password", "the same")):
        with pytest.raises(AccountError, match=message), sessions.begin() as s:
            change_password(s, "ada", current, new)
    with sessions.begin() as s:  # each sign-in check counts in a transaction of its own, before the caller writes
        change_password(s, "ada", "a long test password", "a new long password")
    with sessions.begin() as s:
        assert authenticate(s, "ada", "a new long password").username == "ada"
    with sessions.begin() as s:
        with pytest.raises(AccountError, match="your own account"):
            set_disabled(s, "root", True, by="root")
        with pytest.raises(AccountError, match="last enabled admin"):
            set_disabled(s, "root", True, by="someone")
        set_disabled(s, "ada", True, by="root")
    with sessions.begin() as s, pytest.raises(AccountError, match="disabled"):
        authenticate(s, "ada", "a new long password")
    with sessions() as s:
        assert {a.username: a.disabled for a in list_accounts(s)} == {"ada": True, "root": False}


def test_an_admin_sets_a_forgotten_password_and_the_failed_sign_ins_are_forgiven(db) -> None:  # type: ignore[no-untyped-def]
    from db.accounts import set_password

    _, sessions = db
    with sessions.begin() as s:
        create_user(s, "root", "a long test password", "admin")
        create_user(s, "ada", "a long test password", "teacher")
    for _ in range(6):  # Ada guesses at her forgotten password from her laptop until she must wait
        with sessions() as s, pytest.raises(AccountError, match="wrong"):
            authenticate(s, "ada", "was it this one", now=T0, client="10.0.0.7")
    for username, new, by, message in (("root", "a new long password", "root", "Your account"),
                                       ("ada", "short", "root", "at least 10"),
                                       ("nobody", "a new long password", "root", "no account")):
        with pytest.raises(AccountError, match=message), sessions.begin() as s:
            set_password(s, username, new, by=by)
    with sessions.begin() as s:
        set_password(s, " Ada ", "given in person 42", by="root")
    with sessions.begin() as s:  # at once, from the laptop that was made to wait
        assert authenticate(s, "ada", "given in person 42", now=T0, client="10.0.0.7").username == "ada"
    with sessions() as s, pytest.raises(AccountError, match="wrong"):
        authenticate(s, "ada", "a long test password")


def test_the_set_password_command_signs_the_account_out(tmp_path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from db.session import open_database
    from db.staff_sessions import open_session, resolve

    url = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("PW", "a long admin password")
    assert main(["--db", url, "create-user", "--username", "root", "--role", "admin", "--password-env", "PW"]) == 0
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        token = open_session(s, "root")
    monkeypatch.setenv("PW", "the admin forgot it")
    assert main(["--db", url, "set-password", "--username", "ROOT", "--password-env", "PW"]) == 0
    assert "new password set for root; 1 signed-in browser(s) signed out" in capsys.readouterr().out
    with sessions.begin() as s:
        assert resolve(s, token) is None and authenticate(s, "root", "the admin forgot it").is_admin
    monkeypatch.setenv("PW", "short")
    assert main(["--db", url, "set-password", "--username", "root", "--password-env", "PW"]) == 2
    assert main(["--db", url, "set-password", "--username", "nobody", "--password-env", "PW"]) == 2
    assert "error: " in capsys.readouterr().err
