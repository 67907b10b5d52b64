"""The allowed dependency directions (ARCHITECTURE.md), checked by walking every module's imports."""
import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# part -> top-level packages it must never import
FORBIDDEN = {
    "engine": {"streamlit", "streamlit_webrtc", "db", "services", "training", "dashboard", "settings", "sqlalchemy"},
    "db": {"streamlit", "training", "dashboard", "services", "tensorflow", "keras", "settings"},
    "training": {"streamlit", "db", "dashboard", "services"},
    "services": {"streamlit", "streamlit_webrtc", "dashboard", "training", "settings", "tensorflow", "keras", "cli"},
}
# The command lines (cli/) read the settings and wire the engine to the database; nothing imports them.


def imported_packages(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_parts_import_only_what_they_may(part: str) -> None:
    for path in sorted((REPO / part).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        bad = imported_packages(path) & FORBIDDEN[part]
        assert not bad, f"{rel} imports {sorted(bad)}"


# The capacity benchmark runs the app's own frame callback, which lives in a Streamlit-free module.
DASHBOARD_GLUE = {"benchmarks/capacity/trial.py": {"dashboard.streaming"}, "benchmarks/capacity/cli.py": {"dashboard.streaming"},
                  "benchmarks/browser_capacity.py": {"dashboard.streaming"}}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_imports_the_dashboard() -> None:
    for path in REPO.rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(("dashboard/", "tests/", ".venv/")):
            continue
        dashboard = {m for m in imported_modules(path) if m.split(".")[0] == "dashboard"}
        assert dashboard <= DASHBOARD_GLUE.get(rel, set()), rel


def test_the_stream_glue_is_streamlit_free() -> None:
    assert not imported_packages(REPO / "dashboard" / "streaming.py") & {"streamlit", "streamlit_webrtc"}


def test_no_engine_module_imports_the_analyze_cli() -> None:
    for path in (REPO / "engine").glob("*.py"):
        assert "cli.analyze" not in path.read_text() or path.name == "analyze.py", path.name


INTERNALS = ("aiortc", "av", "streamlit_webrtc.", "streamlit.runtime", "streamlit.proto", "streamlit.web")


def test_only_the_webrtc_adapter_reaches_into_library_internals() -> None:
    """In the app, only dashboard/webrtc imports aiortc, PyAV, streamlit-webrtc's modules or Streamlit's runtime
    (the views use streamlit-webrtc's public `webrtc_streamer`; the frame conversion in dashboard/streaming.py uses
    PyAV's public VideoFrame)."""
    public = {"dashboard/streaming.py": {"av"}}
    for path in sorted((REPO / "dashboard").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("dashboard/webrtc/"):
            continue
        reaching = {m for m in imported_modules(path) if m in ("aiortc", "av") or m.startswith(INTERNALS)}
        assert reaching <= public.get(rel, set()), f"{rel} imports {sorted(reaching)}"


def test_nothing_but_tests_imports_the_command_lines() -> None:
    for path in REPO.rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(("cli/", "tests/", ".venv/")):
            continue
        assert not {m for m in imported_modules(path) if m.split(".")[0] == "cli"}, rel


def test_views_leave_transactions_to_the_services() -> None:
    """Pages call the service layer (services/), which runs each operation in its own transaction."""
    for path in sorted((REPO / "dashboard" / "views").glob("*.py")) + [REPO / "dashboard" / "auth.py"]:
        text = path.read_text()
        assert ".sessions(" not in text and "sessions.begin(" not in text, path.name
        assert not {m for m in imported_modules(path) if m in ("sqlalchemy", "db.session", "db.queries")}, path.name
