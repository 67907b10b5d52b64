"""Keeps streamlit-webrtc from stopping a student's stream that it wrongly takes for an abandoned one.

streamlit-webrtc (0.79) resets a component's context, stopping its WebRTC worker, when the script ran more than once
without rendering the component (meant for a student who left the page and came back: the browser's player starts
afresh, so the old connection is stale). It counts runs with Streamlit's `script_run_count`, which goes up only when
the server's event loop sends a finished run's message to the browser. A run that starts straight after another (the
answer to the browser's offer reruns the page twice) can therefore render the component before the previous run was
counted; the next run then sees two counted runs since the last render and stops the stream it has just connected.
Students saw it as a START press that did not take (the track ended 50 ms after ICE completed, no frame analysed).

The app counts its own full runs as they start (`count_full_run`, at the top of the entry script; fragment reruns do
not run it). When the component was rendered in the run just before this one, no run skipped it, so the library's
lagging count is discarded for this render. A real skip (another page in between) is left to streamlit-webrtc, and
its page-change observer also stops the worker then.
"""
from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

log = logging.getLogger(__name__)

RUNS_KEY = "_engage_full_runs"
RENDERED_SUFFIX = ":rendered_in_run"


def count_full_run(state: MutableMapping[Any, Any]) -> int:
    """Counts a full script run as it starts; returns its number."""
    state[RUNS_KEY] = state.get(RUNS_KEY, 0) + 1
    return int(state[RUNS_KEY])


def keep_rendered_context(state: MutableMapping[Any, Any], key: str, finished_runs: int | None = None) -> bool:
    """Call right before `webrtc_streamer(key=key)`. Returns True when it discarded the library's run count because
    the component was rendered in the previous full run. `finished_runs` (Streamlit's count, read from the session
    when not given) only decides whether that saved the stream, which is logged."""
    runs = state.get(RUNS_KEY)
    last = state.get(key + RENDERED_SUFFIX)
    state[key + RENDERED_SUFFIX] = runs
    context = state.get(key)
    if runs is None or last is None or context is None or last != runs - 1:
        return False
    stamped = getattr(context, "_last_rendered_run_count", None)
    if stamped is None:
        return False
    if finished_runs is None:
        finished_runs = _finished_runs()
    if finished_runs is not None and finished_runs > stamped + 1:
        log.info("kept the stream of %s: rendered in the previous run, though Streamlit has counted %d finished runs "
                 "since (its count lags)", key, finished_runs - stamped - 1)
    context._last_rendered_run_count = None  # streamlit-webrtc skips its orphan check and stamps the current count
    return True


def _finished_runs() -> int | None:
    """Streamlit's count of this session's finished runs, as streamlit-webrtc reads it."""
    from streamlit_webrtc.session_info import get_script_run_count, get_this_session_info

    info = get_this_session_info()
    return get_script_run_count(info) if info else None
