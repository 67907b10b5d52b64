"""Student view: enter the lesson's join code, read what this lesson records and agree, then stream."""
from __future__ import annotations

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from dashboard.consent import consent_text
from dashboard.resources import (
    analysis_worker,
    classifier,
    database,
    facemesh,
    get_settings,
    joining,
    scan_worker,
    stream_ends,
)
from dashboard.streaming import StreamEnd, frame_callback, make_processor, media_constraints, rtc_configuration
from dashboard.text import md_escape
from dashboard.webrtc.context import keep_rendered_context, rerun_session, stop_stream, this_session_id
from db.lessons import LessonError
from db.stream_ends import ENDED
from engine.stream import StreamProcessor
from services.joining import Invitation, Membership

st.title("Join your lesson")
settings = get_settings()
joined: Membership | None = st.session_state.get("student")
pending: Invitation | None = st.session_state.get("pending")  # a valid code, waiting for the student's consent

if joined is None and pending is None:
    with st.form("code"):
        code = st.text_input("Join code", value=str(st.query_params.get("code", ""))[:12], max_chars=12,
                             placeholder="e.g. K7PM3Q", help="Your teacher shows it on screen")
        name = st.text_input("Display name", max_chars=80, placeholder="a nickname is fine")
        submitted = st.form_submit_button("Next", type="primary")
    if submitted:
        if not name.strip():
            st.error("Please enter a display name (a nickname is fine).")
            st.stop()
        try:
            invitation = joining().invitation(code, name, client=st.context.ip_address or "unknown")
        except LessonError as exc:
            st.error(str(exc))
            st.stop()
        st.session_state["pending"] = invitation
        st.rerun()
    st.stop()

if joined is None:
    assert pending is not None
    st.subheader(md_escape(pending.lesson))
    st.markdown(consent_text(settings.emotion_inference, pending.per_student, settings.min_group_size))
    with st.form("consent"):
        agree = st.checkbox("I have read this and agree to stream")
        join = st.form_submit_button("Join", type="primary")
    if st.button("Back"):
        st.session_state.pop("pending")
        st.rerun()
    if join:
        if not agree:
            st.error("Please tick the box to agree before joining.")
            st.stop()
        try:
            st.session_state["student"] = joining().join(pending)
        except LessonError as exc:
            st.error(str(exc))
            st.stop()
        st.session_state.pop("pending")
        st.rerun()
    st.stop()


def leave() -> None:
    """Stop sharing (if still shared) and forget the lesson."""
    stop_stream(st.session_state.get("stream", {}).get("context"))
    for key in ("student", "processor", "stream"):
        st.session_state.pop(key, None)


ends = stream_ends()
stream: dict[str, object] = st.session_state.setdefault("stream", {})  # the streamer's context, for StreamEnd
why = ends.check(joined.participant_id)  # the page may ask the database; the video path reads the cache
if why is not None:
    stop_stream(stream.get("context"))
    if why == ENDED:
        st.info(f"**{md_escape(joined.lesson)}** has ended. Your camera is no longer shared and nothing more is "
                "recorded. Thank you!", icon=":material/check_circle:")
    else:
        st.info(f"Your records in **{md_escape(joined.lesson)}** were deleted by the school. Your camera is no longer "
                "shared and nothing more is recorded.", icon=":material/delete:")
    st.button("Join another lesson", type="primary", on_click=leave)
    st.stop()

STATUS_REFRESH_S = 60.0
CONNECTING_REFRESH_S = 2.0
greeting = st.empty()  # filled once the stream's state is known (after webrtc_streamer below)
processor: StreamProcessor | None = st.session_state.get("processor")
if processor is None:
    processor = make_processor(settings, classifier(), database().writer, joined.lesson_id, joined.participant_id,
                               facemesh(), analysis_worker(), scan_worker())
    st.session_state["processor"] = processor


def close_stream(processor: StreamProcessor = processor, session_id: str | None = this_session_id()) -> None:
    """From the stream's thread, once the stream must end: forget the tracks, close the connection, rerun the page
    (which then says why)."""
    processor.close()
    stop_stream(stream.get("context"))
    rerun_session(session_id)


participant_id = joined.participant_id
processor.overlay = st.toggle("Show what the software sees", value=True,
                              help="Draws the box and the estimate on your own video. Only you see this.")
streamer_key = f"student-{joined.participant_id}"
keep_rendered_context(st.session_state, streamer_key)
ctx = webrtc_streamer(
    key=streamer_key,
    mode=WebRtcMode.SENDRECV,
    rtc_configuration=rtc_configuration(settings),
    media_stream_constraints=media_constraints(settings),
    video_frame_callback=frame_callback(processor, StreamEnd(lambda: ends.ended(participant_id), close_stream)),
    on_video_ended=processor.close,
    async_processing=settings.tuning.async_processing,
)
stream["context"] = ctx
streaming = ctx.state.playing or ctx.state.signalling
greeting.success(f"You are in **{md_escape(joined.lesson)}** as **{md_escape(joined.name)}**. "
                 + ("Your camera is shared; press STOP to stop sharing it." if streaming
                    else "Press START to share your camera."))


# Each rerun of this fragment costs the server far more than it looks (benchmarks.browser_capacity measured
# 0.133 cores per streaming student with a 2 s refresh, 0.066 with 15 s: about 0.15 CPU-seconds a rerun), so
# once frames flow the counter refreshes every minute; the overlay on the student's own video is what shows
# the analysis live. Until the first record it checks every 2 s, then reruns the page once to slow down. Nothing
# refreshes before the connection is up: START and STOP rerun the page themselves, and a fragment's timed rerun
# during the offer/answer exchange risks the component's state update (Streamlit drops non-fragment widget state
# in some timed fragment reruns: streamlit/streamlit#10805; CI once saw a START press that did not take).
connecting = ctx.state.playing and processor.stats.observations == 0  # until the first record, not the first frame
refresh = CONNECTING_REFRESH_S if connecting else STATUS_REFRESH_S if ctx.state.playing else None


@st.fragment(run_every=refresh)
def status() -> None:
    assert processor is not None
    stats = processor.stats
    if connecting and stats.observations > 0:
        st.rerun()  # the whole page: the greeting and the slower refresh
    every = f" (updates every {refresh:g} s)" if refresh else ""
    if stats.frames == 0:
        st.caption(("Connecting: your first frames are on their way" if streaming else "Not streaming yet") + every)
        return
    st.caption(f"Frames analysed: {stats.frames} · records sent: {stats.observations}"
               + (f" · skipped frames: {stats.frame_errors}" if stats.frame_errors else "") + every)


status()
st.button("Leave the lesson", on_click=leave)
