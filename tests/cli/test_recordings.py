"""Recorded lessons through the command line: a gallery of real faces made here, one participant per face."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.galleries import GallerySpec, classroom, write_gallery
from cli.analyze import main
from tests.conftest import REPO

RATE = 1.0
# Four people in a 2x2 call; the recording cuts to a slide for 2 s, and afterwards everyone sits in another tile.
SPEC = GallerySpec("call", 2, 2, 20.0, width=960, height=540, fps=15, cuts=((9.0, 11.0),), shuffle_after=10.0)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recordings")
    write_gallery(folder / "monday.mp4", SPEC)
    write_gallery(folder / "tuesday.mp4", GallerySpec("call", 1, 3, 8.0, width=960, height=360, fps=15))
    (folder / "notes.txt").write_text("not a recording")
    return folder


@pytest.fixture
def shipped_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(REPO / "models"))


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


def test_one_participant_per_person_and_one_observation_per_face_per_second(
        recordings: Path, shipped_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(recordings / "monday.mp4"), "--rate", str(RATE), "--json"]) == 0
    (summary,) = json_lines(capsys)
    assert summary["participants"] == SPEC.faces
    on_screen = SPEC.seconds - sum(end - start for start, end in SPEC.cuts)
    for person in summary["per_participant"]:
        assert abs(person["observations"] - RATE * on_screen) <= 0.1 * RATE * on_screen, person
    assert summary["observations"] == sum(p["observations"] for p in summary["per_participant"])
    assert summary["frames"] <= SPEC.frames and summary["seconds"] == pytest.approx(SPEC.seconds, abs=0.1)
    assert summary["realtime_factor"] > 0


def test_a_folder_is_a_batch_with_a_lesson_per_recording(recordings: Path, shipped_models: None, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from db.schema import LessonSession, ObservationRow, Participant, aware
    from db.session import open_database

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 500)
    url = f"sqlite:///{tmp_path / 'school.db'}"
    code = main([str(recordings), str(broken), "--db", url, "--session", "Week 3", "--json", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2  # one file failed; the others were analysed and recorded
    lines = [json.loads(line) for line in captured.out.strip().splitlines()]
    assert [Path(x["file"]).name for x in lines] == ["monday.mp4", "tuesday.mp4", "broken.mp4"]
    assert [x.get("participants") for x in lines[:2]] == [4, 3]
    assert "not a video" in lines[2]["error"] and "broken.mp4" in captured.err
    _engine, sessions = open_database(url)
    with sessions() as s:
        titles = s.scalars(select(LessonSession.title).order_by(LessonSession.id)).all()
        assert titles == ["Week 3: monday.mp4", "Week 3: tuesday.mp4"]
        assert s.scalar(select(func.count(Participant.id))) == 7
        assert s.scalar(select(func.count(ObservationRow.id))) == lines[0]["observations"] + lines[1]["observations"]
        monday = s.scalars(select(LessonSession).order_by(LessonSession.id)).first()
        assert monday is not None and monday.started_at is not None and monday.ended_at is not None
        assert (monday.ended_at - monday.started_at).total_seconds() == pytest.approx(SPEC.seconds, abs=0.1)
        last = s.scalar(select(func.max(ObservationRow.ts)).where(ObservationRow.session_id == monday.id))
        assert last is not None and aware(monday.started_at) <= aware(last) <= aware(monday.ended_at)

    # The same batch again: its lessons have ended, so nothing is written into them.
    assert main([str(recordings / "tuesday.mp4"), str(recordings / "tuesday.mp4"), "--db", url,
                 "--session", "Week 3", "--no-progress"]) == 2
    assert "already ended" in capsys.readouterr().err


def test_batch_table(recordings: Path, shipped_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(recordings / "tuesday.mp4"), str(recordings / "tuesday.mp4"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("tuesday.mp4") == 2 and "2 of 2 recordings analysed" in out


def test_a_folder_without_videos_is_one_line(tmp_path: Path, shipped_models: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert main([str(tmp_path)]) == 2
    assert "no video files" in capsys.readouterr().err


def test_lessons_belong_to_the_teacher_named(recordings: Path, shipped_models: None, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from db.accounts import create_user
    from db.schema import LessonSession
    from db.session import open_database

    url = f"sqlite:///{tmp_path / 'school.db'}"
    video = str(recordings / "tuesday.mp4")
    assert main([video, "--db", url, "--session", "Tue", "--owner", "nobody"]) == 2
    assert "no such staff account" in capsys.readouterr().err
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, "alice", "a long enough passphrase", "teacher")
    assert main([video, "--db", url, "--session", "Tue", "--owner", "alice", "--no-progress"]) == 0
    with sessions() as s:
        assert s.scalars(select(LessonSession.owner)).all() == ["alice"]


def test_a_classroom_camera_recording_needs_small_faces(tmp_path: Path, shipped_models: None,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.common import write_h264

    frame = classroom(50)
    video = write_h264(tmp_path / "classroom.mp4", (frame for _ in range(40)), fps=5, width=1920, height=1080)
    found = {}
    for flags in ([], ["--small-faces"]):
        assert main([str(video), "--rate", "1", "--json", "--no-attention", *flags]) == 0
        (summary,) = json_lines(capsys)
        found[" ".join(flags)] = summary["participants"]
    assert found[""] == 0 and found["--small-faces"] >= 10, found
