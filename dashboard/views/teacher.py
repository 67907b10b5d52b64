"""Teacher view: create, start and end lessons; watch the class mood live; replay past lessons."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import charts
from dashboard.auth import require
from dashboard.resources import database, get_settings
from dashboard.times import in_zone, zone_name
from db.alerts import attention_needed, hide_small_groups
from db.lessons import (
    LessonError,
    create_lesson,
    end_lesson,
    lesson_for,
    now,
    participant_names,
    start_lesson,
    visible_lessons,
)
from db.queries import attention_shares, emotion_shares, observations_frame
from db.schema import LessonSession

LIVE_MINUTES = 10  # the rolling window of the live charts
WINDOW = "10s"

st.title("Teacher dashboard")
account = require("teacher", "admin")
settings = get_settings()
db = database()
per_student_allowed = settings.privacy_mode == "per-student"
zone = settings.zone
time_title = f"Time ({zone_name(zone)})"

with st.expander("New lesson", expanded=False), st.form("new-lesson", clear_on_submit=True):
    title = st.text_input("Lesson title", placeholder="Year 9 maths, period 3")
    modes = ["aggregate", "per-student"] if per_student_allowed else [settings.privacy_mode]
    mode = st.selectbox("Privacy", modes, help="Class-level figures only, unless your school allows per-student views")
    start_now = st.checkbox("Start now", value=True)
    if st.form_submit_button("Create", type="primary"):
        try:
            with db.sessions.begin() as s:
                created = create_lesson(s, title, owner=account.username, privacy_mode=mode, start=start_now)
                st.session_state["lesson_id"] = created.id
        except LessonError as exc:
            st.error(str(exc))

with db.sessions() as s:
    lessons = visible_lessons(s, account.username, account.is_admin)
if not lessons:
    st.info("No lessons yet: create one above, then give the students its join code.")
    st.stop()

ids = [lesson.id for lesson in lessons]
current = st.session_state.get("lesson_id", ids[0])
lesson_id = st.selectbox("Lesson", ids, index=ids.index(current) if current in ids else 0,
                         format_func=lambda i: next(f"{x.title} ({'ended' if x.ended_at else 'running' if x.started_at else 'not started'})"
                                                    for x in lessons if x.id == i))
st.session_state["lesson_id"] = lesson_id
lesson = next(x for x in lessons if x.id == lesson_id)


def lesson_controls(lesson: LessonSession) -> None:
    left, right = st.columns([3, 1])
    if lesson.ended_at is None:
        left.markdown(f"<div style='font-size:0.9rem;color:#666'>Join code</div>"
                      f"<div style='font-size:4rem;font-weight:700;letter-spacing:0.3rem' data-testid='join-code'>"
                      f"{lesson.join_code}</div>", unsafe_allow_html=True)
    with right:
        if lesson.started_at is None and st.button("Start lesson", type="primary"):
            with db.sessions.begin() as s:
                start_lesson(s, lesson_for(s, lesson.id, account.username, account.is_admin))
            st.rerun()
        if lesson.started_at is not None and lesson.ended_at is None and st.button("End lesson"):
            with db.sessions.begin() as s:
                end_lesson(s, lesson_for(s, lesson.id, account.username, account.is_admin))
            st.rerun()


def render_mood(lesson: LessonSession, live: bool) -> None:
    with db.sessions() as s:
        since = now() - timedelta(minutes=LIVE_MINUTES) if live else None
        frame = observations_frame(s, lesson.id, since=since)
        names = participant_names(s, lesson.id)
    shares = emotion_shares(frame, WINDOW)
    show_individuals = lesson.privacy_mode == "per-student" and per_student_allowed
    visible = shares if show_individuals else hide_small_groups(shares, settings.min_group_size)
    recent = frame[frame["ts"] >= frame["ts"].max() - timedelta(seconds=15)] if len(frame) else frame
    a, b, c = st.columns(3)
    a.metric("Streaming now" if live else "Students", recent["participant_id"].nunique() if live else len(names))
    b.metric("Joined", len(names))
    c.metric("Records", len(frame))
    attention = attention_shares(frame, WINDOW)
    visible_attention = attention if show_individuals else hide_small_groups(attention, settings.min_group_size)
    for alert in attention_needed(visible, expected_students=len(names), attention=visible_attention):
        st.warning(f"Attention needed: {alert.message}.", icon=":material/warning:")
    streaming = recent["participant_id"].nunique() if len(recent) else 0
    if live and not show_individuals and streaming < settings.min_group_size:
        st.info(f"{streaming} student{'s' if streaming != 1 else ''} streaming: class figures appear from "
                f"{settings.min_group_size}, to protect privacy.", icon=":material/group:")
    elif len(visible) < len(shares):
        st.caption(f"Windows with fewer than {settings.min_group_size} students are hidden to protect privacy.")
    current_hidden = len(shares) > 0 and (visible.empty or visible["window"].max() < shares["window"].max())
    if settings.emotion_inference:
        left, right = st.columns([2, 1])
        left.plotly_chart(charts.mood_area(in_zone(visible, "window", zone), time_title=time_title), key="mood")
        if live and current_hidden:  # never an older window shown as the current one
            right.info(f"Right now: fewer than {settings.min_group_size} students in the latest window.")
        else:
            right.plotly_chart(charts.current_distribution(visible, "Right now" if live else "Last window"), key="now")
    if not attention.empty or not settings.emotion_inference:
        st.plotly_chart(charts.attention_line(in_zone(visible_attention, "window", zone), time_title=time_title),
                        key="attention")
    people = in_zone(shares if not shares.empty else attention, "window", zone)
    st.plotly_chart(charts.participants_line(people, time_title=time_title), key="people")
    if show_individuals:
        st.plotly_chart(charts.timeline_heatmap(in_zone(frame, "ts", zone), names, time_title=time_title), key="heat")


lesson_controls(lesson)
if not settings.emotion_inference:
    st.info("This deployment runs without emotion inference (attention-only): the charts show presence only.")
if lesson.ended_at is None and lesson.started_at is not None:
    st.fragment(run_every=3.0)(lambda: render_mood(lesson, live=True))()
else:
    st.subheader("Replay" if lesson.ended_at else "Waiting for the lesson to start")
    render_mood(lesson, live=False)
