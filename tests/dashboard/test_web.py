"""The sign-in route (Starlette's TestClient against the real route and a real SQLite database)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dashboard import web
from db.accounts import create_user
from db.session import open_database
from db.staff_sessions import resolve

ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, object]]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    monkeypatch.setenv("ENGAGE_DATABASE_URL", url)
    monkeypatch.delenv("ENGAGE_SECURE_COOKIES", raising=False)
    web._settings.cache_clear()
    web._sessions.cache_clear()
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, "ada", "a long test password", "admin")
    yield TestClient(Starlette(routes=web.routes()), follow_redirects=False), sessions
    web._settings.cache_clear()
    web._sessions.cache_clear()


def form(username: str, password: str, next_page: str = "/admin") -> dict[str, str]:
    return {"username": username, "password": password, "next": next_page}


def test_a_correct_password_sets_an_httponly_cookie_and_returns_to_the_page(client) -> None:  # type: ignore[no-untyped-def]
    http, sessions = client
    page = http.get("/auth/sign-in?next=/admin")
    assert page.status_code == 200 and 'name="next" value="/admin"' in page.text and "no-store" in page.headers[
        "cache-control"]
    answer = http.post("/auth/sign-in", data=form("ada", "a long test password"), headers=ORIGIN)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("engage_staff=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP here
    with sessions() as s:
        assert resolve(s, answer.cookies["engage_staff"]).username == "ada"


def test_a_wrong_password_keeps_the_page_it_came_from_and_sets_no_cookie(client) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    answer = http.post("/auth/sign-in", data=form("ada", "wrong password!"), headers=ORIGIN)
    assert answer.status_code == 401 and "wrong username or password" in answer.text
    assert 'name="next" value="/admin"' in answer.text and "set-cookie" not in answer.headers
    assert 'value="ada"' in answer.text  # the username stays typed


def test_guessing_is_throttled(client) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    statuses = [http.post("/auth/sign-in", data=form("ada", f"guess {i}!!!!!"), headers=ORIGIN).status_code
                for i in range(7)]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]


def test_a_post_from_another_site_or_to_another_site_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    assert http.post("/auth/sign-in", data=form("ada", "a long test password"),
                     headers={"Origin": "https://evil.example"}).status_code == 403
    elsewhere = http.post("/auth/sign-in", data=form("ada", "a long test password", "https://evil.example/"),
                          headers=ORIGIN)
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/teacher"  # never an open redirect


def test_behind_a_tls_proxy_the_cookie_is_secure(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    monkeypatch.setenv("ENGAGE_SECURE_COOKIES", "true")
    web._settings.cache_clear()
    answer = http.post("/auth/sign-in", data=form("ada", "a long test password"), headers=ORIGIN)
    assert "Secure" in answer.headers["set-cookie"]
