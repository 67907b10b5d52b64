"""Admin view: every lesson, exports (CSV and HTML report) and deletion."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.auth import require
from dashboard.report import html_report
from dashboard.resources import database, get_settings
from db.accounts import AccountError, create_user, list_accounts
from db.lessons import delete_lesson_data, list_lessons
from db.queries import session_summary
from db.reports import minute_aggregates, observations_export, pseudonyms, to_csv_bytes
from db.retention import delete_participant_data

st.title("Administration")
account = require("admin")
settings = get_settings()
db = database()

if "flash" in st.session_state:  # the outcome of the last deletion, shown once after the rerun
    st.success(st.session_state.pop("flash"))
stats = db.writer.stats
a, b, c, d = st.columns(4)
a.metric("Records written", stats.written)
b.metric("Dropped (queue full)", stats.dropped)
c.metric("Failed writes", stats.failed)
d.metric("Refused (erased, or after the lesson ended)", stats.refused)

with st.expander("Accounts"):
    with db.sessions() as s:
        st.dataframe(pd.DataFrame([{"username": a.username, "role": a.role} for a in list_accounts(s)]), hide_index=True)
    with st.form("new-account", clear_on_submit=True):
        new_name = st.text_input("New username")
        new_password = st.text_input("Initial password (10+ characters)", type="password")
        new_role = st.selectbox("Role", ["teacher", "admin"])
        if st.form_submit_button("Create account"):
            try:
                with db.sessions.begin() as s:
                    create_user(s, new_name, new_password, new_role)
                st.success(f"Created {new_role} {new_name.strip().lower()}.")
            except AccountError as exc:
                st.error(str(exc))

with db.sessions() as s:
    summaries = [session_summary(s, lesson.id) for lesson in list_lessons(s)]
if not summaries:
    st.info("No lessons yet.")
    st.stop()

table = pd.DataFrame([{"id": x.lesson_id, "lesson": x.title, "started": x.started_at, "ended": x.ended_at,
                       "students": x.participants, "records": x.observations, "mood": x.dominant or "–"}
                      for x in summaries])
st.dataframe(table, hide_index=True, width="stretch")

lesson_id = st.selectbox("Lesson", table["id"].tolist(),
                         format_func=lambda i: f"#{i} {table.set_index('id').loc[i, 'lesson']}")
summary = next(x for x in summaries if x.lesson_id == lesson_id)
slug = "".join(ch if ch.isalnum() else "-" for ch in summary.title).strip("-").lower() or "lesson"
with db.sessions() as s:
    observations, minutes = observations_export(s, lesson_id), minute_aggregates(s, lesson_id)
left, mid, right = st.columns(3)
left.download_button("Observations (CSV)", to_csv_bytes(observations), f"{slug}-observations.csv", "text/csv")
mid.download_button("Per-minute mood (CSV)", to_csv_bytes(minutes), f"{slug}-per-minute.csv", "text/csv")
right.download_button("Session report (HTML)", html_report(summary, minutes, settings.min_group_size),
                      f"{slug}-report.html", "text/html")

with st.expander("Delete one participant's data"):
    with db.sessions() as s:
        people = pseudonyms(s, lesson_id)
    if people:
        ids: list[int] = list(people)
        who = st.selectbox("Participant (pseudonymous id)", ids, format_func=lambda pid: people[pid], key="participant")
        if who is not None and st.button("Delete this participant's data", key="delete-participant"):
            with db.sessions.begin() as s:
                removed = delete_participant_data(s, who)
            st.session_state["flash"] = f"Deleted {removed} records of {people[who]}."
            st.rerun()
    else:
        st.caption("No participants.")

with st.expander("Delete this lesson's data"):
    st.write(f"This removes **{summary.observations}** records and **{summary.participants}** participants for good.")
    confirm = st.text_input("Type the lesson title to confirm", key=f"confirm-{lesson_id}")
    if st.button("Delete", type="primary", disabled=confirm.strip() != summary.title, key="delete-lesson"):
        with db.sessions.begin() as s:
            deleted = delete_lesson_data(s, lesson_id)
        st.session_state["flash"] = f"Deleted {deleted} records."
        st.rerun()
