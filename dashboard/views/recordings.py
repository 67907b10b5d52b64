"""Recorded lessons: a teacher sends a recording (a video call's gallery, a classroom camera); the server analyses it
and it becomes an ended lesson, with its summary and replay on the Teacher dashboard."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import streamlit as st

from dashboard.auth import require
from dashboard.resources import get_settings, recording_jobs, teaching
from dashboard.text import md_escape
from dashboard.times import zone_name
from db.lessons import LessonError
from engine.media import VIDEO_SUFFIXES, MediaError
from engine.video import VideoInfo
from services.recording_jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobStatus, RecordingRequest

st.title("Recorded lessons")
account = require("teacher", "admin")
settings = get_settings()
service = teaching()
jobs = recording_jobs()
zone = settings.zone


def clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


@st.cache_data(max_entries=8, show_spinner=False)
def probe(file_id: str, name: str, _upload: BinaryIO) -> VideoInfo | str:
    """What the container says, or the reason it cannot be read (once per upload, read in place: no copy)."""
    try:
        return jobs.probe(_upload, name)
    except MediaError as exc:
        return str(exc)


st.write("Send a recording of a lesson: a video call's gallery of student tiles or a classroom camera. The server "
         "analyses it about once a second per face, as it does live, and it becomes an ended lesson on your *Teacher "
         "dashboard*, with its summary, moments and replay. Each person in it is a pseudonymous participant "
         "(person-1, person-2, …).")
st.caption("The recording is held in the server's memory only while it is analysed and is never stored; "
           "only the records described on *Privacy & lawful use* are kept. Recordings are analysed one at a time, "
           "after the live lessons' work.")

if flash := st.session_state.pop("recordings-flash", None):
    st.success(flash, icon=":material/hourglass_top:")
uploads = st.session_state.setdefault("recordings-uploads", 0)  # a new key empties the uploader once a file is sent
upload = st.file_uploader("Recording", type=sorted(s.lstrip(".") for s in VIDEO_SUFFIXES), key=f"upload-{uploads}")
if upload is not None:
    info = probe(upload.file_id, upload.name, upload)
    if isinstance(info, str):
        st.error(f"{info}. Nothing was sent; choose another file.")
    else:
        st.write(f"**{md_escape(upload.name)}**: {clock(info.seconds) if info.seconds else 'length unknown'}, "
                 f"{info.width}×{info.height}, {info.fps:.0f} frames a second")
        # fixed per upload: a default that moved with the clock would make Streamlit treat the inputs as new ones and
        # drop what the teacher typed
        began = st.session_state.setdefault(f"began-{upload.file_id}", (
            info.created or datetime.now(UTC) - timedelta(seconds=info.seconds)).astimezone(zone).replace(
            second=0, microsecond=0))
        modes = ["aggregate", "per-student"] if service.policy.per_student_lessons else [settings.privacy_mode]
        with st.form("send-recording"):
            title = st.text_input("Lesson title", value=Path(upload.name).stem[:200])
            course = st.selectbox("Course or class group (optional)", service.course_names(account), index=None,
                                  accept_new_options=True, placeholder="pick one or type a new name",
                                  help="Lessons of one course are compared on the Courses page")
            mode = st.selectbox("Privacy", modes, help="Class-level figures only, unless your school allows "
                                                       "per-student views")
            kind = st.radio("What the recording shows", ["A video call's gallery", "A classroom camera"],
                            horizontal=True, help="A classroom camera's faces are small: the server then looks for "
                                                  "faces down to about 40 pixels, which takes longer")
            left, right = st.columns(2)
            day = left.date_input("Day of the lesson", value=began.date())
            at = right.time_input(f"Recording began at ({zone_name(zone)})", value=began.time(), step=60,
                                  help="Taken from the recording where it says; the lesson's times follow from it")
            send = st.form_submit_button("Analyse", type="primary")
        if send:
            started = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
            kept = settings.retention_days
            if started + timedelta(seconds=info.seconds) > datetime.now(UTC) + timedelta(minutes=1):
                st.error("That start time would put the end of the lesson in the future; check the day and time.")
            elif kept and started < datetime.now(UTC) - timedelta(days=kept):
                st.error(f"That lesson is older than the {kept} days this school keeps records, so its records "
                         "would be deleted straight away; check the day.")
            else:
                try:
                    jobs.submit(RecordingRequest(account.username, title, upload.name, started, course=course,
                                                 privacy_mode=mode, small_faces=kind == "A classroom camera"),
                                upload.getvalue())
                except (LessonError, MediaError) as exc:
                    st.error(f"{exc}. Nothing was queued.")
                else:
                    st.session_state["recordings-flash"] = (f"{upload.name} is queued; you may leave this page, the "
                                                            "lesson appears on your Teacher dashboard when it is done.")
                    st.session_state["recordings-uploads"] = uploads + 1
                    st.rerun()


def show(job: JobStatus) -> None:
    request = job.request
    with st.container(border=True):
        head, button = st.columns([5, 1])
        head.markdown(f"**{md_escape(request.title)}** · {md_escape(request.file_name)}"
                      + (f" · sent by {md_escape(request.owner)}" if account.is_admin else ""))
        if job.state in (QUEUED, RUNNING) and button.button("Cancel", key=f"cancel-{job.id}"):
            jobs.cancel(job.id, None if account.is_admin else account.username)
            st.rerun()
        if job.state == QUEUED:
            st.progress(0.0, text=f"Waiting: {job.ahead} recording{'s' if job.ahead != 1 else ''} ahead")
        elif job.state == RUNNING:
            speed, left = job.realtime_factor, job.eta_s
            text = f"{clock(job.done_s)} of {clock(job.video.seconds) if job.video.seconds else '?'} analysed"
            if speed is not None:
                text += f" · {speed:.1f}× real time"
            if left is not None:
                text += f" · about {clock(left)} left"
            st.progress(job.fraction, text=text)
        elif job.state == DONE:
            st.success(f"{job.participants} {'person' if job.participants == 1 else 'people'}, {job.observations} "
                       f"records, in {clock(job.running_s)}.", icon=":material/check_circle:")
            if st.button("Open the lesson", key=f"open-{job.id}"):
                st.session_state["lesson_id"] = job.lesson_id
                st.switch_page("views/teacher.py")
        elif job.state == FAILED:
            st.error(f"Not recorded: {job.error}", icon=":material/error:")
        elif job.state == CANCELLED:
            st.caption("Cancelled; nothing was recorded.")


def job_list() -> None:
    shown = jobs.status(None if account.is_admin else account.username)
    working = any(j.state in (QUEUED, RUNNING) for j in shown)
    if st.session_state.get("recordings-working") and not working:
        st.session_state["recordings-working"] = False
        st.rerun()  # the last one has finished: the page stops polling
    st.session_state["recordings-working"] = working
    if shown:
        st.subheader("On this server")
    for job in shown:
        show(job)


working_now = any(j.state in (QUEUED, RUNNING) for j in jobs.status(None if account.is_admin else account.username))
st.fragment(job_list, run_every=1.0 if working_now else None)()
