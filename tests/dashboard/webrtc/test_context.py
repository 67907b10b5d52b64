"""The guard against streamlit-webrtc stopping a stream it takes for abandoned, run against the library's own
context code with Streamlit's finished-run count lagging behind the runs, as it does when one run follows another."""
from collections.abc import Iterator
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import streamlit as st
from streamlit_webrtc import component

from dashboard.webrtc.context import PAGE_CHANGES_KEY, PAGE_KEY, RENDERED_SUFFIX, keep_rendered_context, note_page

KEY = "student-test"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """Streamlit's count of finished runs, set by each test (the browser has been sent this many)."""
    info = SimpleNamespace(script_run_count=0)
    monkeypatch.setattr(component, "get_this_session_info", lambda: info)
    yield info
    for key in (KEY, KEY + RENDERED_SUFFIX, PAGE_KEY, PAGE_CHANGES_KEY):
        st.session_state.pop(key, None)


def render(guard: bool) -> object:
    """One full run of the student page: the app notes the page, then the page renders the component."""
    note_page(st.session_state, "join")
    if guard:
        keep_rendered_context(st.session_state, KEY)
    return component._get_or_create_context(KEY)


@pytest.mark.parametrize("guard", [False, True])
def test_a_lagging_run_count_stops_the_stream_only_without_the_guard(session: SimpleNamespace, guard: bool) -> None:
    context = render(guard)
    worker = MagicMock()
    context._set_worker(worker)  # type: ignore[attr-defined]
    render(guard)  # the next run renders before the first was counted: Streamlit still says 0
    session.script_run_count = 2  # now both are counted
    render(guard)
    assert worker.stop.called is not guard  # without the guard the library resets the context it just connected
    assert (context._get_worker() is worker) is guard  # type: ignore[attr-defined]


def test_a_run_that_skipped_the_component_still_resets_it(session: SimpleNamespace) -> None:
    context = render(True)
    worker = MagicMock()
    context._set_worker(worker)  # type: ignore[attr-defined]
    session.script_run_count = 1
    note_page(st.session_state, "photo")  # another page: a full run that does not render the component
    session.script_run_count = 2
    render(True)  # back on the student page: the browser's player is new, the old connection is stale
    worker.stop.assert_called_once()


def test_a_run_interrupted_before_the_component_does_not_reset_it(session: SimpleNamespace) -> None:
    context = render(True)
    worker = MagicMock()
    context._set_worker(worker)  # type: ignore[attr-defined]
    note_page(st.session_state, "join")  # a run of the same page, cut short by a rerun before the component
    render(True)
    session.script_run_count = 3  # the lagging count catches up with the runs
    render(True)
    worker.stop.assert_not_called()


def test_the_guard_acts_only_while_the_page_was_not_left(caplog: pytest.LogCaptureFixture) -> None:
    state: dict[str, object] = {}
    assert not keep_rendered_context(state, KEY)  # no run noted yet
    note_page(state, "join")
    assert not keep_rendered_context(state, KEY)  # first render: no context yet
    state[KEY] = SimpleNamespace(_last_rendered_run_count=3)
    note_page(state, "join")
    assert keep_rendered_context(state, KEY, finished_runs=4)  # Streamlit counted one run since: nothing saved
    assert state[KEY]._last_rendered_run_count is None and not caplog.records  # type: ignore[attr-defined]
    state[KEY]._last_rendered_run_count = 3  # type: ignore[attr-defined]
    with caplog.at_level("INFO", logger="dashboard.webrtc.context"):
        assert keep_rendered_context(state, KEY, finished_runs=5)  # two counted since its stamp: the library would stop it
    assert "kept the stream of student-test" in caplog.text
    note_page(state, "photo")
    note_page(state, "join")
    state[KEY]._last_rendered_run_count = 5  # type: ignore[attr-defined]
    assert not keep_rendered_context(state, KEY)  # the student left the page and came back
    assert state[KEY]._last_rendered_run_count == 5  # type: ignore[attr-defined]
