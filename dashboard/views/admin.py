"""Admin view: what every app process wrote, accounts (create, disable, set a forgotten password), every lesson,
exports (CSV and HTML report) and deletion."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.auth import require
from dashboard.report import file_stem, html_report
from dashboard.resources import administration, get_settings
from dashboard.text import md_escape
from dashboard.times import stamp, zone_name
from db.accounts import MIN_PASSWORD_LENGTH, AccountError
from db.reports import to_csv_bytes

st.title("Administration")
account = require("admin")
settings = get_settings()
service = administration()
zone = settings.zone

if "flash" in st.session_state:  # the outcome of the last change, shown once after the rerun
    st.success(st.session_state.pop("flash"))


@st.fragment(run_every=10.0)
def writer_figures() -> None:
    totals = service.writers()
    a, b, c, d, e = st.columns(5)
    a.metric("Records stored", totals.stored, help="Observations in the database now (after retention and deletions)")
    b.metric("Written", totals.written)
    c.metric("Dropped (queue full)", totals.dropped)
    d.metric("Failed writes", totals.failed)
    e.metric("Refused", totals.refused, help="Records for an erased participant, or stamped after their lesson ended")
    st.caption(f"Written, dropped, failed and refused: every app process since {stamp(totals.since, zone)} "
               f"({totals.instances} process{'es' if totals.instances != 1 else ''}; each reports every few seconds). "
               "Refreshes every 10 s.")


writer_figures()

with st.expander("Accounts"):
    with st.form("new-account", clear_on_submit=True):
        new_name = st.text_input("New username")
        new_password = st.text_input("Initial password (10+ characters)", type="password")
        new_role = st.selectbox("Role", ["teacher", "admin"])
        if st.form_submit_button("Create account"):
            try:
                service.create_account(new_name, new_password, new_role)
                st.session_state["flash"] = f"Created {new_role} {md_escape(new_name.strip().lower())}."
                st.rerun()
            except AccountError as exc:
                st.error(str(exc))
    accounts = service.accounts()
    st.dataframe(pd.DataFrame([{"username": a.username, "role": a.role, "status": "disabled" if a.disabled else "active"}
                               for a in accounts]), hide_index=True)
    others = [a for a in accounts if a.username != account.username]
    if others:
        chosen = st.selectbox("Account", [a.username for a in others], key="account-to-change")
        target = next(a for a in others if a.username == chosen)
        label = "Enable this account" if target.disabled else "Disable this account (signs it out everywhere)"
        if st.button(label, key="toggle-account"):
            try:
                ended = service.set_disabled(target.username, not target.disabled, by=account.username)
                name = md_escape(target.username)
                st.session_state["flash"] = (f"Enabled {name}." if target.disabled else
                                             f"Disabled {name}; {ended} signed-in browser(s) signed out.")
                st.rerun()
            except AccountError as exc:
                st.error(str(exc))
        with st.form("set-password", clear_on_submit=True):
            st.caption(f"Forgotten password? Give **{md_escape(target.username)}** a new one and tell them in person; "
                       "they can change it on *Your account* once signed in.")
            first = st.text_input(f"New password ({MIN_PASSWORD_LENGTH}+ characters)", type="password",
                                  key="new-password")
            again = st.text_input("New password again", type="password", key="new-password-again")
            if st.form_submit_button("Set this password (signs the account out everywhere)"):
                if first != again:
                    st.error("The two passwords differ.")
                else:
                    try:
                        ended = service.set_password(target.username, first, by=account.username)
                        st.session_state["flash"] = (f"New password set for {md_escape(target.username)}; "
                                                     f"{ended} signed-in browser(s) signed out.")
                        st.rerun()
                    except AccountError as exc:
                        st.error(str(exc))

listed = service.lessons()
lessons = [lesson for lesson, _summary in listed]
summaries = {lesson.id: summary for lesson, summary in listed}
if not lessons:
    st.info("No lessons yet.")
    st.stop()

st.subheader("Lessons")
table = pd.DataFrame([{"id": x.id, "lesson": x.title, "owner": x.owner or "–", "privacy": x.privacy_mode,
                       f"started ({zone_name(zone)})": stamp(x.started_at, zone, with_zone=False),
                       f"ended ({zone_name(zone)})": stamp(x.ended_at, zone, with_zone=False),
                       "students": summaries[x.id].participants, "records": summaries[x.id].observations}
                      for x in lessons])
st.dataframe(table, hide_index=True, width="stretch")

titles = {x.id: x.title for x in lessons}
lesson_id = st.selectbox("Lesson", list(titles), format_func=lambda i: f"#{i} {titles[i]}")
lesson = next(x for x in lessons if x.id == lesson_id)
summary = summaries[lesson_id]
slug = file_stem(summary.title)
exports = service.exports(lesson, zone)
figures, observations, individuals = exports.figures, exports.observations, exports.figures.individuals
left, mid, right = st.columns(3)
right.download_button("Session report (HTML)", html_report(figures, zone, settings.emotion_inference),
                      f"{slug}-report.html", "text/html", help="Opens in any browser; print it to PDF from there")
mid.download_button("Per-minute class figures (CSV)", to_csv_bytes(exports.minutes),
                    f"{slug}-per-minute.csv", "text/csv",
                    help=f"Only minutes with {settings.min_group_size} or more students" if not individuals else None)
if observations is not None:
    left.download_button("Observations (CSV)", to_csv_bytes(observations), f"{slug}-observations.csv", "text/csv")
else:
    left.caption("Per-observation export: per-student lessons only (this lesson shows class-level figures).")
if figures.hidden:
    st.caption(f"{figures.hidden} of {figures.windows} minutes had fewer than {settings.min_group_size} students and "
               "are left out of the report and the per-minute export.")

with st.expander("Delete one participant's data"):
    people = service.pseudonyms(lesson_id)
    if people:
        ids: list[int] = list(people)
        who = st.selectbox("Participant (pseudonymous id)", ids, format_func=lambda pid: people[pid], key="participant")
        sure = st.checkbox("I understand this deletes this participant's records for good", key=f"sure-{who}")
        if who is not None and st.button("Delete this participant's data", key="delete-participant", disabled=not sure):
            removed = service.delete_participant(who)
            st.session_state["flash"] = (f"Deleted {removed} records of {people[who]}; if they were streaming, "
                                         "their stream stops within seconds.")
            st.rerun()
    else:
        st.caption("No participants.")

with st.expander("Delete this lesson's data"):
    st.write(f"This removes **{summary.observations}** records and **{summary.participants}** participants of "
             f"**{md_escape(summary.title)}** for good.")
    confirm = st.text_input("Type the lesson title to confirm", key=f"confirm-{lesson_id}")
    if st.button("Delete", type="primary", disabled=confirm.strip() != summary.title, key="delete-lesson"):
        deleted = service.delete_lesson(lesson_id)
        st.session_state["flash"] = f"Deleted {deleted} records; any student still streaming to it stops within seconds."
        st.rerun()
