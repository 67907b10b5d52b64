"""Students stream a real face from headless Chromium over WebRTC; observations reach SQLite and the teacher."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from db.accounts import create_user
from db.lessons import create_lesson
from db.schema import LessonSession, ObservationRow, Participant
from db.session import open_database
from settings import Settings
from tests.browser.harness.run import STAFF, astronaut_scene, make_clip, run_scenario

pytestmark = pytest.mark.browser


def new_lesson(url: str, title: str) -> str:
    """A running lesson owned by the scenario's teacher account; returns its join code."""
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, STAFF["username"], STAFF["password"], "teacher")
        return create_lesson(s, title, owner=STAFF["username"], start=True).join_code


def rows_by_student(url: str) -> dict[str, list[ObservationRow]]:
    _engine, sessions = open_database(url)
    with sessions() as s:
        names = dict(s.execute(select(Participant.id, Participant.display_name)).tuples().all())
        rows = list(s.scalars(select(ObservationRow)))
    out: dict[str, list[ObservationRow]] = {name: [] for name in names.values()}
    for row in rows:
        assert row.participant_id is not None, "a stream's record without its participant"
        out[names[row.participant_id]].append(row)
    return out


def diagnosis(result: dict, tmp_path: Path) -> str:  # type: ignore[type-arg]
    """What each student's presses saw and the app's log (without aioice's per-packet checks), for a failure."""
    log = (tmp_path / "app.log").read_text(errors="replace") if (tmp_path / "app.log").exists() else ""
    lines = [line for line in log.splitlines() if "aioice" not in line]
    return (json.dumps(result.get("students"), indent=1)[-6000:] + "\napp log:\n" + "\n".join(lines)[-6000:])


def assert_one_press(result: dict) -> None:  # type: ignore[type-arg]
    """Every student's first START press that reached the player took: one that needed a second try is a product
    defect, not noise. A click the player never received (Chromium delivered it elsewhere) is pressed again."""
    for student in result["students"]:
        received = [press for press in student["presses"] if not press.get("missed")]
        assert len(received) == 1 and "server_saw_s" in received[0], \
            f"{student['name']} needed {len(received)} START presses: {student['presses']}"


def two_students(tmp_path: Path, astronaut_bgr: np.ndarray, title: str, env: dict[str, str] | None = None,
                 end_lesson: bool = False, erase_first: bool = False) -> tuple[str, dict]:  # type: ignore[type-arg]
    """Left (the astronaut at the frame's left) and Right (mirrored, at its right) stream to one lesson at once;
    returns the database URL and the scenario's result."""
    url, data = f"sqlite:///{tmp_path / 'data' / 'engagement.db'}", tmp_path / "data"
    code = new_lesson(url, title)
    left = make_clip(tmp_path / "left.y4m", astronaut_scene(astronaut_bgr, 0, mirrored=False))
    right = make_clip(tmp_path / "right.y4m", astronaut_scene(astronaut_bgr, 240, mirrored=True))
    result = run_scenario(tmp_path, db_url=url, data_dir=data, join_code=code, stream_seconds=8,
                          students=[{"name": "Left", "clip": str(left)}, {"name": "Right", "clip": str(right)}],
                          shots_dir=tmp_path / "shots", env_overrides=env, end_lesson=end_lesson,
                          erase_first=erase_first)
    return url, result


def test_one_student_streams_and_the_teacher_sees_it(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    """The student opens the teacher's join link (the code filled in) and streams. With the defaults
    (ENGAGE_INSTANCES=0: one app process per core, behind HAProxy where there are more)."""
    url, data = f"sqlite:///{tmp_path / 'data' / 'engagement.db'}", tmp_path / "data"
    code = new_lesson(url, "Browser lesson")
    clip = make_clip(tmp_path / "ada.y4m", astronaut_scene(astronaut_bgr, 120, mirrored=False))
    result = run_scenario(tmp_path, db_url=url, data_dir=data, join_code=code, stream_seconds=8,
                          students=[{"name": "Ada", "clip": str(clip)}], shots_dir=tmp_path / "shots")
    rows = rows_by_student(url)["Ada"]
    assert len(rows) >= 4, f"only {len(rows)} observations arrived\n{diagnosis(result, tmp_path)}"
    assert result["students"][0]["prefilled"]  # the join link filled in the code
    assert result["students"][0]["external_requests"] == []  # the student's page asks nothing of any other host
    assert_one_press(result)
    assert all(r.label is not None and abs(sum(getattr(r, c) for c in (
        "p_angry", "p_disgust", "p_fear", "p_happy", "p_sad", "p_surprise", "p_neutral")) - 1) < 1e-4 for r in rows)
    signals = [json.loads(r.extras) for r in rows if r.extras]  # the real landmark models ran on the stream
    assert len(signals) == len(rows) and all(sig["eyes_open"] and abs(sig["yaw"]) <= 20 for sig in signals)
    student = result["students"][0]["page_text"]
    assert "Your camera is shared" in student and "Press START" not in student, student[:500]
    analysed = re.search(r"Frames analysed: (\d+) · records sent: (\d+)", student)  # the status line caught up
    assert analysed and int(analysed.group(1)) > 0 and int(analysed.group(2)) > 0, student[:500]
    text = result["teacher_text"]
    streaming = re.search(r"Streaming now\s+(\d+)", text)
    assert code in text and streaming and int(streaming.group(1)) == 1, text[:500]
    # frames are processed in memory only: the data folder holds the database and, with several instances, the
    # proxy's and supervisor's configuration and log, nothing else
    leftovers = [p.name for p in data.iterdir() if not p.name.startswith("engagement.db") and p.name != "run"]
    assert leftovers == []
    run = data / "run"
    assert not run.exists() or {p.name for p in run.iterdir()} <= {
        "supervisord.conf", "haproxy.cfg", "supervisord.log", "supervisord.pid", "supervisor.sock", "proxy.pem"}
    app_log = (tmp_path / "app.log").read_text(errors="replace")
    assert "frame callbacks of new streams run on 2 shared threads" in app_log
    assert "a received video track starts on the shared decoder threads" in app_log  # aiortc's receiver took the pool
    assert "DEBUG streamlit_webrtc.webrtc: ICE connection state is" in app_log  # the worker's lifecycle, for diagnosis


def test_two_students_at_once_on_the_inceptionv3_option_are_attributed_to_the_right_participant(
        tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    url, result = two_students(tmp_path, astronaut_bgr, "Two students",
                               {"ENGAGE_INSTANCES": "1", "ENGAGE_MODEL": "inceptionv3"})  # one process
    rows = rows_by_student(url)
    counts = {name: len(rs) for name, rs in rows.items()}
    assert counts["Left"] >= 4 and counts["Right"] >= 4, f"observations: {counts}\n{diagnosis(result, tmp_path)}"
    assert {r.model_name for rs in rows.values() for r in rs} == {"inceptionv3"}
    assert_one_press(result)
    centre = {name: np.mean([r.box_x + r.box_w / 2 for r in rs]) for name, rs in rows.items()}
    # In the 640x480 clips the left face's centre is near x=175 (27 % of the width) and the right one's near x=465
    # (73 %); Chromium delivers them at the app's capture size (ENGAGE_VIDEO_WIDTH, 320 by default).
    width = Settings().video_width
    assert 0.17 * width < centre["Left"] < 0.37 * width and 0.63 * width < centre["Right"] < 0.83 * width, centre


def test_two_app_instances_serve_a_student_each_until_one_is_erased_and_the_teacher_ends_the_lesson(
        tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    """ENGAGE_INSTANCES=2 (dashboard.serve): each browser is pinned to an instance, a new one to the less busy, and
    the teacher, pinned to one of them, sees the whole class (the instances share the database). An admin erases
    Left's records while both stream: Left's stream stops and the page says so, and none of Left's rows is stored
    afterwards. When the teacher ends the lesson, Right's stream stops too and the page says so, whichever instance
    serves it, and no observation is stored after the lesson's end."""
    url, result = two_students(tmp_path, astronaut_bgr, "Two instances", {"ENGAGE_INSTANCES": "2"}, end_lesson=True,
                               erase_first=True)
    instances = [student["instance"] for student in result["students"]]
    assert sorted(instances) == ["app1", "app2"], f"{instances}\n{diagnosis(result, tmp_path)}"  # one student on each
    assert_one_press(result)
    streaming = re.search(r"Streaming now\s+(\d+)", result["teacher_text"])
    assert streaming and int(streaming.group(1)) == 2, result["teacher_text"][:500]
    app_log = (tmp_path / "app.log").read_text(errors="replace")
    assert "2 instances ready behind http://127.0.0.1" in app_log
    left, right = result["students"]
    seen = left["erased_seen_s"]
    assert seen is not None and seen <= 5, f"Left: {seen}\n{left['erased_text'][:400]}"
    assert left["player_after_erasure"] == 0, left["erased_text"][:400]
    seen = right["ended_seen_s"]
    assert seen is not None and seen <= 5, f"Right: {seen}\n{right['ended_text'][:400]}"
    assert right["player_after_end"] == 0, right["ended_text"][:400]  # the player is gone: nothing to restart
    counts = {name: len(rs) for name, rs in rows_by_student(url).items()}
    assert counts.get("Left", 0) == 0 and counts["Right"] >= 4, f"observations: {counts}\n{diagnosis(result, tmp_path)}"
    _engine, sessions = open_database(url)
    with sessions() as s:
        ended_at = s.scalar(select(LessonSession.ended_at))
        last = s.scalar(select(func.max(ObservationRow.ts)))
    assert ended_at is not None and last is not None and last.replace(tzinfo=None) <= ended_at.replace(tzinfo=None)
