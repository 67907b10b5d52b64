"""Student view: join a lesson with its code, consent, then stream the webcam."""
from __future__ import annotations

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from dashboard.resources import classifier, database, get_settings
from dashboard.streaming import frame_callback, make_processor, media_constraints, rtc_configuration
from db.lessons import LessonError, add_participant, lesson_by_code
from engine.stream import StreamProcessor

EMOTION_CONSENT = """
**What happens when you stream**
- Your camera picture is analysed **in memory on the school's server** and is **never stored or recorded**.
- For each face the software estimates how likely seven emotions are (Angry, Disgust, Fear, Happy, Sad,
  Surprise, Neutral), about once a second. Those numbers, a time stamp and a random id (not your name) are saved.
- Your teacher sees the **class as a whole**; individual timelines appear only if your school has allowed it.
- The estimates are often wrong: they describe a facial expression, not how you feel.
- You can stop the camera or leave at any time.
"""
ATTENTION_CONSENT = """
**What happens when you stream**
- Your camera picture is analysed **in memory on the school's server** and is **never stored or recorded**.
- Only whether a face is visible is recorded (no emotion analysis runs in this deployment), with a time stamp
  and a random id (not your name).
- You can stop the camera or leave at any time.
"""

st.title("Join your lesson")
settings = get_settings()
joined = st.session_state.get("student")

if joined is None:
    with st.form("join"):
        code = st.text_input("Join code", max_chars=12, placeholder="e.g. K7PM3Q", help="Your teacher shows it on screen")
        name = st.text_input("Display name", max_chars=80, placeholder="a nickname is fine")
        st.markdown(EMOTION_CONSENT if settings.emotion_inference else ATTENTION_CONSENT)
        consent = st.checkbox("I have read this and agree to stream")
        submitted = st.form_submit_button("Join", type="primary")
    if submitted:
        if not consent:
            st.error("Please tick the box to agree before joining.")
            st.stop()
        try:
            with database().sessions.begin() as s:
                lesson = lesson_by_code(s, code, client=st.context.ip_address or "unknown")
                person = add_participant(s, lesson, name, consent=True)
                st.session_state["student"] = {"lesson_id": lesson.id, "lesson": lesson.title,
                                               "participant_id": person.id, "name": person.display_name}
        except LessonError as exc:
            st.error(str(exc))
            st.stop()
        st.rerun()
    st.stop()

st.success(f"You are in **{joined['lesson']}** as **{joined['name']}**. Press START to share your camera.")
processor: StreamProcessor | None = st.session_state.get("processor")
if processor is None:
    processor = make_processor(settings, classifier(), database().writer, joined["lesson_id"], joined["participant_id"])
    st.session_state["processor"] = processor
processor.overlay = st.toggle("Show what the software sees", value=True,
                              help="Draws the box and the estimate on your own video. Only you see this.")
webrtc_streamer(
    key=f"student-{joined['participant_id']}",
    mode=WebRtcMode.SENDRECV,
    rtc_configuration=rtc_configuration(settings),
    media_stream_constraints=media_constraints(settings),
    video_frame_callback=frame_callback(processor),
    async_processing=True,
)


@st.fragment(run_every=2.0)
def status() -> None:
    assert processor is not None
    stats = processor.stats
    st.caption(f"Frames analysed: {stats.frames} · records sent: {stats.observations}"
               + (f" · skipped frames: {stats.frame_errors}" if stats.frame_errors else ""))


status()
if st.button("Leave the lesson"):
    for key in ("student", "processor"):
        st.session_state.pop(key, None)
    st.rerun()
