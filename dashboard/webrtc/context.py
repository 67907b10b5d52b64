"""Keeps streamlit-webrtc from stopping a student's stream that it wrongly takes for an abandoned one.

streamlit-webrtc (0.79) resets a component's context, stopping its WebRTC worker, when the script ran more than once
without rendering the component (meant for a student who left the page and came back: the browser's player starts
afresh, so the old connection is stale). It counts runs with Streamlit's `script_run_count`, which goes up only when
the server's event loop sends a finished run's message to the browser. A run that starts straight after another (the
browser's ICE candidates and play state each ask for one while the student connects) can therefore render the
component before the previous run was counted; the next run then sees two counted runs since the last render and
stops the stream it has just connected. Students saw it as a START press that did not take (the stream ended within
a tenth of a second of connecting, before a frame was analysed).

The app notes which page each full run shows (`note_page`, in the entry script; fragment reruns do not run it). When
no run has shown another page since the component was last rendered, the student cannot have left it, so the
library's lagging count is discarded for this render. Leaving the page and coming back is still left to
streamlit-webrtc, whose page-change observer also stops the worker then.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

log = logging.getLogger(__name__)

PAGE_KEY = "_engage_page"
PAGE_CHANGES_KEY = "_engage_page_changes"
RENDERED_SUFFIX = ":rendered_after_page_change"


def note_page(state: MutableMapping[Any, Any], page: str) -> int:
    """Called by every full run with the page it shows; returns how many times the page has changed."""
    if state.get(PAGE_KEY) != page:
        state[PAGE_KEY] = page
        state[PAGE_CHANGES_KEY] = state.get(PAGE_CHANGES_KEY, 0) + 1
    return int(state[PAGE_CHANGES_KEY])


def keep_rendered_context(state: MutableMapping[Any, Any], key: str, finished_runs: int | None = None) -> bool:
    """Call right before `webrtc_streamer(key=key)`. Returns True when it discarded the library's run count because
    no run showed another page since the component was last rendered. `finished_runs` (Streamlit's count, read from
    the session when not given) only decides whether that saved the stream, which is logged."""
    changes = state.get(PAGE_CHANGES_KEY)
    last = state.get(key + RENDERED_SUFFIX)
    state[key + RENDERED_SUFFIX] = changes
    context = state.get(key)
    if changes is None or last is None or context is None or last != changes:
        return False
    stamped = getattr(context, "_last_rendered_run_count", None)
    if stamped is None:
        return False
    if finished_runs is None:
        finished_runs = _finished_runs()
    if finished_runs is not None and finished_runs > stamped + 1:
        log.info("kept the stream of %s: its page was not left, though Streamlit has counted %d finished runs since "
                 "it was rendered (its count lags)", key, finished_runs - stamped - 1)
    context._last_rendered_run_count = None  # streamlit-webrtc skips its orphan check and stamps the current count
    return True


def _finished_runs() -> int | None:
    """Streamlit's count of this session's finished runs, as streamlit-webrtc reads it."""
    from streamlit_webrtc.session_info import get_script_run_count, get_this_session_info

    info = get_this_session_info()
    return get_script_run_count(info) if info else None


def stop_stream(context: object | None) -> bool:
    """Close a streamer's WebRTC connection from the server (the lesson ended), without waiting for it. The
    browser's player sees its connection close and stops, which reruns the student's page. streamlit-webrtc has
    no public call for this; its context's worker (`_get_worker`, 0.79) is what STOP itself stops."""
    get_worker = getattr(context, "_get_worker", None)
    worker = get_worker() if callable(get_worker) else None
    if worker is None:
        return False
    threading.Thread(target=worker.stop, name="stop-ended-stream", daemon=True).start()
    return True


def this_session_id() -> str | None:
    """The id of the browser session whose script is running in this thread (None outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def rerun_session(session_id: str | None) -> bool:
    """Rerun a browser session's whole page from another thread, the way Streamlit's own run-on-save does
    (`AppSession.request_rerun` with the session's last client state, Streamlit 1.67): a stream's callback uses it
    so that the student's page says at once that the lesson ended, instead of when the browser notices the closed
    connection (Chromium takes 5-8 s). False when the session is gone."""
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.runtime import Runtime

    if session_id is None or not Runtime.exists():
        return False
    info = Runtime.instance()._session_mgr.get_active_session_info(session_id)
    if info is None:
        return False
    state = ClientState()
    state.CopyFrom(info.session._client_state)
    state.fragment_id = ""  # the whole page, not the fragment that ran last
    state.is_auto_rerun = False
    info.session.request_rerun(state)
    return True
