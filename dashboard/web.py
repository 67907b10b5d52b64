"""The app's own HTTP routes beside Streamlit's: staff sign-in, which sets the session cookie.

Streamlit's pages cannot set cookies (they talk over a websocket), so the password form is a plain page served
here: a correct password opens a server-side session (db.staff_sessions) and answers with its token in a cookie
that is HttpOnly, SameSite=Lax and, under HTTPS, Secure, then sends the browser back to the staff page it came
from. The pages read the cookie through `st.context.cookies` (dashboard.auth). Sign-out happens in the pages:
revoking the session in the database makes the cookie worthless at once, on every app process.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from db.accounts import AccountError
from db.session import DatabaseUnavailable, connect
from db.staff_sessions import SESSION_LIFETIME
from services.staff import Staff
from settings import Settings

log = logging.getLogger(__name__)
COOKIE = "engage_staff"
SIGN_IN_PATH = "/auth/sign-in"
STAFF_PAGES = ("/teacher", "/courses", "/recordings", "/admin", "/photo", "/account")
_templates = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                         autoescape=select_autoescape(default=True))


@functools.cache
def _settings() -> Settings:
    return Settings.from_env()


@functools.cache
def _sessions() -> sessionmaker[Session]:
    return connect(_settings().resolved_database_url)[1]


def sign_in_url(page: str) -> str:
    """Where a staff page sends a browser that is not signed in."""
    return f"{SIGN_IN_PATH}?next={page if page in STAFF_PAGES else STAFF_PAGES[0]}"


def safe_next(value: str | None) -> str:
    """Only our own staff pages: never an address elsewhere (an open redirect)."""
    return value if value in STAFF_PAGES else STAFF_PAGES[0]


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, through a proxy that says so, or behind a TLS proxy
    configured as such (ENGAGE_SECURE_COOKIES; dashboard.serve sets it for its instances when it serves HTTPS)."""
    return (request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"
            or _settings().secure_cookies)


def same_origin(request: Request) -> bool:
    """A form posted from our own page (browsers send Origin with every POST); refuses cross-site sign-in."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _form(request: Request, *, error: str = "", username: str = "", status: int = 200,
          next_page: str | None = None) -> HTMLResponse:
    try:
        empty = Staff(_sessions()).no_accounts()
    except (SQLAlchemyError, DatabaseUnavailable):
        empty = False
    page = _templates.get_template("sign_in.html").render(
        action=SIGN_IN_PATH, next=safe_next(next_page or request.query_params.get("next")), error=error,
        username=username,
        no_accounts=empty)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _sign_in(username: str, password: str, client: str) -> str:
    """The new session's token; raises AccountError with a message safe to show."""
    return Staff(_sessions()).sign_in(username, password, client)


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_form, request)
    if not same_origin(request):
        return HTMLResponse("Sign-in must come from this site's own page.", status_code=403)
    form = await request.form()
    username, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:1000]
    target = safe_next(str(form.get("next", "")))
    client = request.client.host if request.client else "unknown"
    try:
        token = await run_in_threadpool(_sign_in, username, password, client)
    except AccountError as exc:
        message, status = str(exc), 429 if "too many" in str(exc) else 401
        return await run_in_threadpool(lambda: _form(request, error=message, username=username, status=status,
                                                     next_page=target))
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        log.error("sign-in: the database is unavailable: %s", exc)
        return await run_in_threadpool(lambda: _form(request, error="The database is unavailable; try again in a "
                                                                    "minute.", username=username, status=503,
                                                     next_page=target))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=is_https(request))
    return response


def routes() -> list[Route]:
    return [Route(SIGN_IN_PATH, sign_in, methods=["GET", "POST"])]
