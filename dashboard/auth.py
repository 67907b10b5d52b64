"""Sign-in for staff pages; students need no account."""
from __future__ import annotations

import streamlit as st
from sqlalchemy import func, select

from dashboard.resources import database
from db.accounts import Account, AccountError, authenticate
from db.schema import User

ACCOUNT_KEY = "account"


def signed_in() -> Account | None:
    account = st.session_state.get(ACCOUNT_KEY)
    return account if isinstance(account, Account) else None


def require(*roles: str) -> Account:
    """The signed-in account if it has one of `roles`; otherwise a sign-in form (or a refusal) and stop."""
    account = signed_in()
    if account is not None and account.role in roles:
        return account
    if account is not None:
        st.error(f"This page is for {' and '.join(roles)} accounts; you are signed in as a {account.role}.")
        st.stop()
    sign_in_form()
    st.stop()
    raise AssertionError("unreachable")


def sign_in_form() -> None:
    st.subheader("Staff sign-in")
    db = database()
    with db.sessions() as s:
        no_accounts = not s.scalar(select(func.count(User.id)))
    if no_accounts:
        st.info("No accounts yet. Create the first admin with\n\n"
                "`.venv/bin/python -m db.accounts create-user --role admin --username NAME`\n\n"
                "or start the app with ENGAGE_ADMIN_USERNAME and ENGAGE_ADMIN_PASSWORD set.")
    with st.form("sign-in"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        with db.sessions.begin() as s:
            account = authenticate(s, username, password, client=st.context.ip_address or "unknown")
    except AccountError as exc:
        st.error(str(exc))
        return
    st.session_state[ACCOUNT_KEY] = account
    st.rerun()


def sign_out_button() -> None:
    account = signed_in()
    if account is not None:
        st.sidebar.caption(f"Signed in as **{account.username}** ({account.role})")
        if st.sidebar.button("Sign out"):
            st.session_state.pop(ACCOUNT_KEY, None)
            st.rerun()
