"""Teacher view: create, start and end lessons; watch the class mood live; replay past lessons."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.auth import require
from dashboard.joining import join_link, qr_png
from dashboard.report import duration, file_stem, html_report
from dashboard.resources import database, get_settings
from dashboard.times import in_zone, stamp, zone_name
from db.alerts import attention_needed, hide_small_groups
from db.class_figures import class_figures, shows_individuals
from db.courses import list_courses
from db.lessons import (
    LessonError,
    create_lesson,
    end_lesson,
    get_or_create_course,
    lesson_for,
    now,
    participant_names,
    start_lesson,
    visible_lessons,
)
from db.moments import Moment
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
    with db.sessions() as s:
        own_courses = [c.name for c in list_courses(s, account.username)]
    course_name = st.selectbox("Course or class group (optional)", own_courses, index=None, accept_new_options=True,
                               placeholder="e.g. 9B maths: pick one or type a new name",
                               help="Lessons of one course are compared on the Courses page")
    modes = ["aggregate", "per-student"] if per_student_allowed else [settings.privacy_mode]
    mode = st.selectbox("Privacy", modes, help="Class-level figures only, unless your school allows per-student views")
    start_now = st.checkbox("Start now", value=True)
    if st.form_submit_button("Create", type="primary"):
        try:
            with db.sessions.begin() as s:
                course = get_or_create_course(s, course_name.strip()[:200], account.username) if course_name and \
                    course_name.strip() else None
                created = create_lesson(s, title, owner=account.username, course=course, privacy_mode=mode,
                                        start=start_now)
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
    left, mid, right = st.columns([3, 1, 1])
    if lesson.ended_at is None:
        link = join_link(st.context.url, lesson.join_code)
        left.markdown(f"<div style='font-size:0.9rem;color:#666'>Join code</div>"
                      f"<div style='font-size:4rem;font-weight:700;letter-spacing:0.3rem' data-testid='join-code'>"
                      f"{lesson.join_code}</div>", unsafe_allow_html=True)
        left.code(link, language=None)  # copyable; students may also scan the QR code
        mid.image(qr_png(link), width=150, caption="Scan to join")
    with right:
        if lesson.started_at is None and st.button("Start lesson", type="primary"):
            with db.sessions.begin() as s:
                start_lesson(s, lesson_for(s, lesson.id, account.username, account.is_admin))
            st.rerun()
        if lesson.started_at is not None and lesson.ended_at is None and st.button("End lesson"):
            with db.sessions.begin() as s:
                end_lesson(s, lesson_for(s, lesson.id, account.username, account.is_admin))
            st.rerun()


def render_mood(lesson: LessonSession, live: bool, focus: Moment | None = None) -> None:
    """The class live (a rolling window) or replayed; a replay may be narrowed to one moment (`focus`)."""
    with db.sessions() as s:
        since = now() - timedelta(minutes=LIVE_MINUTES) if live else None
        frame = observations_frame(s, lesson.id, since=since)
        names = participant_names(s, lesson.id)
    shares = emotion_shares(frame, WINDOW)
    show_individuals = shows_individuals(lesson.privacy_mode, settings.privacy_mode)
    visible = shares if show_individuals else hide_small_groups(shares, settings.min_group_size)
    recent = frame[frame["ts"] >= frame["ts"].max() - timedelta(seconds=15)] if len(frame) else frame
    a, b, c = st.columns(3)
    a.metric("Streaming now" if live else "Students", recent["participant_id"].nunique() if live else len(names))
    b.metric("Joined", len(names))
    c.metric("Records", len(frame))
    attention = attention_shares(frame, WINDOW)
    visible_attention = attention if show_individuals else hide_small_groups(attention, settings.min_group_size)
    alerts = attention_needed(visible, expected_students=len(names), attention=visible_attention)
    silenced: set[int] = st.session_state.setdefault("silenced_lessons", set())
    if live and alerts and lesson.id not in silenced:
        for alert in alerts:
            started = stamp(alert.since.to_pydatetime(), zone, with_zone=False)[11:]
            st.warning(f"Attention needed since {started}: {alert.message}.", icon=":material/warning:")
        st.button("Silence alerts for this lesson", key="silence", on_click=silenced.add, args=(lesson.id,))
    streaming = recent["participant_id"].nunique() if len(recent) else 0
    if live and not show_individuals and streaming < settings.min_group_size:
        st.info(f"{streaming} student{'s' if streaming != 1 else ''} streaming: class figures appear from "
                f"{settings.min_group_size}, to protect privacy.", icon=":material/group:")
    elif len(visible) < len(shares):
        st.caption(f"Windows with fewer than {settings.min_group_size} students are hidden to protect privacy.")
    current_hidden = len(shares) > 0 and (visible.empty or visible["window"].max() < shares["window"].max())
    if settings.emotion_inference:
        left, right = st.columns([2, 1])
        left.plotly_chart(charts.zoom_to(charts.mood_area(in_zone(visible, "window", zone), time_title=time_title),
                                         focus, zone), key="mood")
        if live and current_hidden:  # never an older window shown as the current one
            right.info(f"Right now: fewer than {settings.min_group_size} students in the latest window.")
        else:
            right.plotly_chart(charts.current_distribution(visible, "Right now" if live else "Last window"), key="now")
    if not attention.empty or not settings.emotion_inference:
        fig = charts.attention_line(in_zone(visible_attention, "window", zone), time_title=time_title)
        st.plotly_chart(charts.zoom_to(fig, focus, zone), key="attention")
    people = in_zone(shares if not shares.empty else attention, "window", zone)
    st.plotly_chart(charts.zoom_to(charts.participants_line(people, time_title=time_title), focus, zone), key="people")
    if show_individuals:
        fig = charts.timeline_heatmap(in_zone(frame, "ts", zone), names, time_title=time_title)
        st.plotly_chart(charts.zoom_to(fig, focus, zone), key="heat")


def render_summary(lesson: LessonSession) -> Moment | None:
    """An ended lesson at a glance: how long, who, how attentive, the mood, the moments that mattered, and its
    report; every figure under the privacy rule (per-minute windows). Returns the moment the teacher selected."""
    individuals = shows_individuals(lesson.privacy_mode, settings.privacy_mode)
    with db.sessions() as s:
        figures = class_figures(s, lesson.id, min_group=settings.min_group_size, individuals=individuals)
    summary = figures.summary
    st.subheader("Lesson summary")
    a, b, c, d = st.columns(4)
    a.metric("Duration", duration(summary.started_at, summary.ended_at) or "–")
    b.metric("Students joined", summary.participants)
    attentive = figures.mean_attention.get("attentive")
    c.metric("Attentive", f"{attentive:.0%}" if attentive is not None else "–",
             help="Share of the time the class had eyes open and faced the screen")
    d.metric("Most often", (figures.dominant or "–") if settings.emotion_inference else "–")
    if figures.windows and figures.hidden == figures.windows:
        st.info(f"No minute of this lesson had {settings.min_group_size} or more students streaming, so it has no "
                "class figures, to protect privacy.", icon=":material/group:")
    moments = figures.moments(settings.emotion_inference)
    selected = None
    if moments:
        st.markdown("**Moments that mattered** (select one to see it in the replay below)")
        event = st.dataframe(pd.DataFrame([{"from": stamp(m.start.to_pydatetime(), zone, with_zone=False)[11:],
                                            "minutes": round(m.minutes), "what happened": m.describe()}
                                           for m in moments]),
                             hide_index=True, on_select="rerun", selection_mode="single-row", key=f"moments-{lesson.id}")
        rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
        selected = moments[rows[0]] if rows and rows[0] < len(moments) else None
    elif figures.windows - figures.hidden:
        st.caption("No moment stood out from the lesson's own baseline.")
    ticks = charts.tick_minutes(figures.attention["window"]) if not figures.attention.empty else 1
    if not figures.attention.empty:
        fig = charts.attention_line(in_zone(figures.attention, "window", zone), "Attention per minute", time_title,
                                    ticks)
        st.plotly_chart(charts.mark_moments(fig, moments, zone), key="summary-attention")
    slug = file_stem(lesson.title)
    st.download_button("Lesson report (HTML)", html_report(figures, zone, settings.emotion_inference),
                       f"{slug}-report.html", "text/html", help="Opens in any browser; print it to PDF from there")
    return selected


lesson_controls(lesson)
if not settings.emotion_inference:
    st.info("This deployment runs without emotion inference (attention-only): the charts show presence only.")
if lesson.ended_at is None and lesson.started_at is not None:
    st.fragment(run_every=3.0)(lambda: render_mood(lesson, live=True))()
else:
    focus = render_summary(lesson) if lesson.ended_at is not None else None
    st.subheader("Replay" if lesson.ended_at else "Waiting for the lesson to start")
    if focus is not None:
        st.caption(f"Around the selected moment: {focus.describe()}. Clear the selection to see the whole lesson.")
    render_mood(lesson, live=False, focus=focus)
