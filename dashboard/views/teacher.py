"""Teacher view: create, start and end lessons; watch the class mood live; replay past lessons."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.auth import require
from dashboard.joining import join_link, qr_png
from dashboard.report import duration, file_stem, html_report
from dashboard.resources import get_settings, teaching
from dashboard.times import in_zone, stamp, zone_name
from db.class_figures import ClassFigures
from db.lessons import LessonError
from db.moments import Moment
from db.schema import LessonSession
from services.teaching import ClassView

st.title("Teacher dashboard")
account = require("teacher", "admin")
settings = get_settings()
service = teaching()
per_student_allowed = service.policy.per_student_lessons
zone = settings.zone
time_title = f"Time ({zone_name(zone)})"

with st.expander("New lesson", expanded=False), st.form("new-lesson", clear_on_submit=True):
    title = st.text_input("Lesson title", placeholder="Year 9 maths, period 3")
    own_courses = service.course_names(account)
    course_name = st.selectbox("Course or class group (optional)", own_courses, index=None, accept_new_options=True,
                               placeholder="e.g. 9B maths: pick one or type a new name",
                               help="Lessons of one course are compared on the Courses page")
    modes = ["aggregate", "per-student"] if per_student_allowed else [settings.privacy_mode]
    mode = st.selectbox("Privacy", modes, help="Class-level figures only, unless your school allows per-student views")
    start_now = st.checkbox("Start now", value=True)
    if st.form_submit_button("Create", type="primary"):
        try:
            st.session_state["lesson_id"] = service.create(account, title, course=course_name, privacy_mode=mode,
                                                           start=start_now)
        except LessonError as exc:
            st.error(str(exc))

lessons = service.lessons(account)
if not lessons:
    st.info("No lessons yet: create one above, then give the students its join code. A lesson that was recorded "
            "(a video call, a classroom camera) can be sent on *Recorded lessons* in the menu.")
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
            service.start(account, lesson.id)
            st.rerun()
        if lesson.started_at is not None and lesson.ended_at is None and st.button("End lesson"):
            service.end(account, lesson.id)
            st.rerun()


def render_mood(lesson: LessonSession, live: bool, focus: Moment | None = None, view: ClassView | None = None) -> None:
    """The class live (a rolling window) or replayed (`view`, where read already); a replay may be narrowed to one
    moment (`focus`)."""
    view = service.class_view(lesson, live=live) if view is None else view
    min_group = view.min_group
    a, b, c = st.columns(3)
    a.metric("Streaming now" if live else "Students", view.streaming if live else view.joined)
    b.metric("Joined", view.joined)
    c.metric("Records", view.records)
    alerts = view.alerts
    silenced: set[int] = st.session_state.setdefault("silenced_lessons", set())
    if live and alerts and lesson.id not in silenced:
        for alert in alerts:
            started = stamp(alert.since.to_pydatetime(), zone, with_zone=False)[11:]
            st.warning(f"Attention needed since {started}: {alert.message}.", icon=":material/warning:")
        st.button("Silence alerts for this lesson", key="silence", on_click=silenced.add, args=(lesson.id,))
    if live and not view.individuals and view.streaming < min_group:
        st.info(f"{view.streaming} student{'s' if view.streaming != 1 else ''} streaming: class figures appear from "
                f"{min_group}, to protect privacy.", icon=":material/group:")
    elif view.hidden:
        st.caption(f"Windows with fewer than {min_group} students are hidden to protect privacy.")
    hidden = f"Hidden until {min_group} students stream at once, to protect privacy" if view.hidden else None
    if settings.emotion_inference:
        left, right = st.columns([2, 1])
        mood = charts.mood_area(in_zone(view.mood, "window", zone), time_title=time_title,
                                empty=hidden or "No emotion data yet")
        left.plotly_chart(charts.zoom_to(mood, focus, zone), key="mood")
        if live and view.current_hidden:  # never an older window shown as the current one
            right.info(f"Right now: fewer than {min_group} students in the latest window.")
        else:
            right.plotly_chart(charts.current_distribution(view.mood, "Right now" if live else "Last window"), key="now")
    if view.measured_attention or not settings.emotion_inference:
        fig = charts.attention_line(in_zone(view.attention, "window", zone), time_title=time_title,
                                    empty=hidden or "No attention data yet")
        st.plotly_chart(charts.zoom_to(fig, focus, zone), key="attention")
    people = in_zone(view.people, "window", zone)
    st.plotly_chart(charts.zoom_to(charts.participants_line(people, time_title=time_title), focus, zone), key="people")
    if view.timeline is not None and view.names is not None:
        fig = charts.timeline_heatmap(in_zone(view.timeline, "ts", zone), view.names, time_title=time_title)
        st.plotly_chart(charts.zoom_to(fig, focus, zone), key="heat")


def render_summary(lesson: LessonSession, figures: ClassFigures) -> Moment | None:
    """An ended lesson at a glance: how long, who, how attentive, the mood, the moments that mattered, and its
    report; every figure under the privacy rule (per-minute windows). Returns the moment the teacher selected."""
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
elif lesson.ended_at is not None:
    figures, view = service.replay(lesson)
    focus = render_summary(lesson, figures)
    st.subheader("Replay")
    if focus is not None:
        st.caption(f"Around the selected moment: {focus.describe()}. Clear the selection to see the whole lesson.")
    render_mood(lesson, live=False, focus=focus, view=view)
else:
    st.subheader("Waiting for the lesson to start")
    render_mood(lesson, live=False)
