"""The one place the app reaches into the internals of aiortc, PyAV, streamlit-webrtc, Streamlit and Starlette.

Every change the app makes to those libraries lives in this package: `frame_pool` (streamlit-webrtc's per-stream
callback thread), `decoder_pool` (aiortc's per-stream decoder thread), `return_video` (aiortc's encoder bitrate, its
VP8 options, MediaRelay's queue), `context` (streamlit-webrtc's render bookkeeping and worker, Streamlit's session
rerun) and `uploads` (Starlette's spooling of uploads to disk). They were written against the versions in
`internals.PINNED` (requirements.txt pins the same), and `internals.check()`, run before the app patches anything,
verifies that each symbol they touch still has the shape they expect, and stops the app with the version found when
one does not: an upgrade fails loudly at start-up, never silently in a student's stream.
"""
