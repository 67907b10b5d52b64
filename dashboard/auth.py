"""Who is signed in on a staff page: the session cookie set by the sign-in page (dashboard.web), checked against
the database on every run, so sign-out, a password change or a disabled account take effect at once."""
from __future__ import annotations

import html

import streamlit as st

from dashboard.resources import staff
from dashboard.text import md_escape
from dashboard.web import COOKIE, sign_in_url
from dashboard.webrtc.context import PAGE_KEY
from db.accounts import Account

TOKEN_KEY = "staff_token"  # a session token given to the page itself (AppTest, which cannot send cookies)


def session_token() -> str | None:
    for token in (st.context.cookies.get(COOKIE), st.session_state.get(TOKEN_KEY)):
        if isinstance(token, str) and token:
            return token
    return None


def signed_in() -> Account | None:
    token = session_token()
    if token is None:
        return None
    return staff().signed_in(token)


def require(*roles: str) -> Account:
    """The signed-in account if it has one of `roles`; otherwise a way to sign in (or a refusal) and stop."""
    account = signed_in()
    if account is not None and account.role in roles:
        return account
    if account is not None:
        st.error(f"This page is for {' and '.join(roles)} accounts; you are signed in as a {account.role}.")
        st.stop()
    sign_in_prompt()
    st.stop()
    raise AssertionError("unreachable")


def sign_in_prompt() -> None:
    page = "/" + str(st.session_state.get(PAGE_KEY, "teacher"))
    st.subheader("Staff sign-in")
    st.write("This page is for teachers and administrators." + (
        " Your session has ended (signed out, expired or the account changed); please sign in again."
        if session_token() else ""))
    st.html(f'<a href="{html.escape(sign_in_url(page))}" data-testid="sign-in-link" style="display:inline-block;'
            'padding:0.45rem 1.1rem;border-radius:0.5rem;background:#ff4b4b;color:#fff;text-decoration:none;'
            'font-weight:600">Sign in</a>')


def sign_out_button(account: Account | None) -> None:
    """Who is signed in, and a way out, in the sidebar of every page (nothing for students)."""
    if account is None:
        return
    st.sidebar.caption(f"Signed in as **{md_escape(account.username)}** ({account.role})")
    if st.sidebar.button("Sign out"):
        staff().sign_out(session_token())
        st.session_state.pop(TOKEN_KEY, None)
        st.rerun()
