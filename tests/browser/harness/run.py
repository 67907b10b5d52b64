"""Real-browser harness: headless Chromium students with a fake camera against the real app, in their own netns.

Used by the browser tests (tests/browser) and by benchmarks.browser_capacity. Needs root (for `unshare -n`),
iproute2, Debian's chromium and Playwright; `missing_tools()` names what is absent.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from deploy.local import free_ports

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
# Inside a fresh network namespace nothing reaches the real network. Chromium gathers no ICE candidates on
# loopback and aioice drops 127.0.0.1, so a veth end carries 127.0.0.2 (see ENVIRONMENT.md).
NETNS_SETUP = ("ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 127.0.0.2/8 dev v0 "
               "&& ip link set v0 up && ip link set v1 up")
STAFF = {"username": "teacher", "password": "a long test password"}


def missing_tools() -> list[str]:
    missing = [t for t in ("unshare", "ip") if shutil.which(t) is None]
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if os.geteuid() != 0:
        missing.append("root (for unshare -n)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright")
    return missing


def make_clip(path: Path, frame: np.ndarray, seconds: int = 2, fps: int = 15) -> Path:
    """A y4m (YUV4MPEG2, 4:2:0) clip of one still frame for Chromium's fake camera, which loops the file."""
    height, width = frame.shape[:2]
    i420 = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(seconds * fps):
            out.write(b"FRAME\n" + i420)
    return path


def astronaut_scene(astronaut: np.ndarray, x: int, mirrored: bool) -> np.ndarray:
    """A 640x480 webcam-like frame with the astronaut (400x400) at column x, optionally mirrored."""
    canvas = np.full((480, 640, 3), 90, np.uint8)
    face = cv2.resize(cv2.flip(astronaut, 1) if mirrored else astronaut, (400, 400), interpolation=cv2.INTER_AREA)
    canvas[40:440, x : x + 400] = face
    return canvas


def free_port() -> int:
    return free_ports(1)[0]


@contextmanager
def staff_app(tmp: Path, role: str = "teacher", instances: int = 2) -> Iterator[dict]:  # type: ignore[type-arg]
    """The app as scripts/run.sh starts it (`instances` behind HAProxy) on a fresh SQLite file with STAFF's account;
    yields the plan `scenario.sign_in` and `start_app` read (its "port", "log"); the app stops afterwards."""
    from db.accounts import create_user
    from db.session import open_database
    from tests.browser.harness.scenario import start_app

    url = f"sqlite:///{tmp / 'data' / 'engagement.db'}"
    engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, STAFF["username"], STAFF["password"], role)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env.update(ENGAGE_DATABASE_URL=url, ENGAGE_DATA_DIR=str(tmp / "data"), ENGAGE_INSTANCES=str(instances),
               ENGAGE_MODELS_DIR=str(REPO / "models"), PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    plan = {"repo": str(REPO), "port": free_port(), "env": env, "log": str(tmp / "app.log"), "staff": STAFF}
    app = start_app(plan)
    try:
        yield plan
    finally:
        app.terminate()
        app.wait(40)


def run_scenario(tmp: Path, *, db_url: str, data_dir: Path, join_code: str, students: list[dict[str, str]],
                 stream_seconds: float, shots_dir: Path, measure_seconds: float = 0.0,
                 env_overrides: dict[str, str] | None = None, end_lesson: bool = False,
                 erase_first: bool = False) -> dict:  # type: ignore[type-arg]
    """Run tests/browser/harness/scenario.py in a new network namespace; the lesson must be owned by STAFF's account.

    The app starts as scripts/run.sh starts it (dashboard.serve: ENGAGE_INSTANCES processes; by default one per core). With
    `measure_seconds`, the app's CPU use (its process and those it started) is sampled idle and then while every
    student streams. With `erase_first`, an admin then erases the first student's records and their page is watched;
    with `end_lesson`, the teacher ends the lesson at the end and each (other) student's page is watched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env.update(ENGAGE_DATABASE_URL=db_url, ENGAGE_DATA_DIR=str(data_dir), ENGAGE_MODELS_DIR=str(REPO / "models"),
               ENGAGE_ANALYSIS_INTERVAL="0.5", PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2",
               ENGAGE_DEBUG_LOGGERS="streamlit_webrtc")  # its worker lifecycle, for a stream that ends unasked
    env.update(env_overrides or {})
    plan = {"repo": str(REPO), "port": free_port(), "env": env, "log": str(tmp / "app.log"), "join_code": join_code,
            "students": students, "stream_seconds": stream_seconds, "chromium": CHROMIUM,
            "shots_dir": str(shots_dir), "result": str(tmp / "result.json"), "staff": STAFF,
            "measure_seconds": measure_seconds, "end_lesson": end_lesson, "erase_first": erase_first}
    (tmp / "plan.json").write_text(json.dumps(plan))
    command = f"{NETNS_SETUP} && exec {sys.executable} {REPO / 'tests/browser/harness/scenario.py'} {tmp / 'plan.json'}"
    proc = subprocess.run(["unshare", "-n", "bash", "-c", command], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        log = (tmp / "app.log").read_text() if (tmp / "app.log").exists() else ""
        raise AssertionError(f"scenario failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}\n"
                             f"app log:\n{log[-3000:]}")
    return json.loads((tmp / "result.json").read_text())  # type: ignore[no-any-return]
