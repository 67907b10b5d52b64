"""Your account (teachers and admins): change your own password; every other browser of yours is signed out."""
from __future__ import annotations

import streamlit as st

from dashboard.auth import require, session_token
from dashboard.resources import staff
from dashboard.text import md_escape
from db.accounts import MIN_PASSWORD_LENGTH, AccountError

st.title("Your account")
account = require("teacher", "admin")
st.write(f"Signed in as **{md_escape(account.username)}** ({account.role}).")

with st.form("password", clear_on_submit=True):
    st.subheader("Change your password")
    current = st.text_input("Current password", type="password")
    new = st.text_input(f"New password ({MIN_PASSWORD_LENGTH}+ characters)", type="password")
    again = st.text_input("New password again", type="password")
    if st.form_submit_button("Change password", type="primary"):
        if new != again:
            st.error("The two new passwords differ.")
        else:
            try:
                others = staff().change_password(account.username, current, new,
                                                 client=st.context.ip_address or "unknown", keep=session_token())
                st.success("Password changed." + (f" {others} other browser{'s' if others != 1 else ''} signed out."
                                                  if others else ""))
            except AccountError as exc:
                st.error(str(exc))
