"""The command line on a real face image and on a short video made from it."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from cli.analyze import main
from engine.types import EMOTIONS, Box
from tests.conftest import ASTRONAUT_FACE, REPO


@pytest.fixture
def models_env(tiny_models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))
    return tiny_models_dir


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_shipped_default_model_finds_and_classifies_the_astronaut(
    astronaut_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(REPO / "models"))
    out = run_json(capsys, str(astronaut_path))
    (face,) = out["faces"]
    assert Box(*face["box"]).iou(ASTRONAUT_FACE) > 0.6
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert abs(sum(face["probabilities"].values()) - 1) < 1e-6
    assert face["label"] == max(face["probabilities"], key=face["probabilities"].get)
    attention = face["attention"]  # the shipped landmark model: she looks at the camera, eyes open
    assert attention["eyes_open"] is True and abs(attention["yaw"]) <= 20 and attention["looking_away"] is False
    assert {"pitch", "ear"} <= set(attention)


def test_table_output_and_annotation(models_env: Path, astronaut_path: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out_png = tmp_path / "annotated.png"
    assert main([str(astronaut_path), "--annotate", str(out_png)]) == 0
    table = capsys.readouterr().out
    assert "Angry" in table and "177," in table
    annotated, original = cv2.imread(str(out_png)), cv2.imread(str(astronaut_path))
    assert annotated is not None and original is not None
    assert annotated.shape == original.shape and not np.array_equal(annotated, original)


def test_gray_and_alpha_images_work(models_env: Path, astronaut_bgr: np.ndarray, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    gray, rgba = tmp_path / "gray.png", tmp_path / "alpha.png"
    cv2.imwrite(str(gray), cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(rgba), cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2BGRA))
    for path in (gray, rgba):
        assert len(run_json(capsys, str(path))["faces"]) == 1


def test_no_face_is_an_empty_result_not_an_error(models_env: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 200, np.uint8))
    assert run_json(capsys, str(blank)) == {"faces": []}


def test_no_emotion_mode_reports_boxes_only(models_env: Path, astronaut_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (face,) = run_json(capsys, str(astronaut_path), "--no-emotion")["faces"]
    assert "probabilities" not in face and len(face["box"]) == 4


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.png", "no such file"),
    (lambda d: (d / "notes.txt").write_text("hello") and d / "notes.txt", "not an image"),
    (lambda d: (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage") and d / "broken.jpg", "not an image"),
    (lambda d: (d / "broken.mp4").write_bytes(b"\x00" * 64) and d / "broken.mp4", "video"),
])
def test_bad_input_is_one_clear_line_and_exit_2(models_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                make, message: str) -> None:  # type: ignore[no-untyped-def]
    assert main([str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1] and "Traceback" not in "\n".join(err)


def test_unknown_model_is_a_clear_error(models_env: Path, astronaut_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(astronaut_path), "--model", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_huge_image_is_refused(models_env: Path, astronaut_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENGAGE_MAX_IMAGE_PIXELS", "1000")
    assert main([str(astronaut_path)]) == 2
    assert "above the limit" in capsys.readouterr().err


@pytest.fixture(scope="module")
def astronaut_video(tmp_path_factory: pytest.TempPathFactory, astronaut_path: Path) -> Path:
    """Three seconds at 10 fps of the astronaut drifting sideways, as MJPG in an AVI."""
    image = cv2.imread(str(astronaut_path))
    assert image is not None
    path = tmp_path_factory.mktemp("video") / "lesson.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (512, 512))
    for i in range(30):
        writer.write(np.roll(image, i, axis=1))
    writer.release()
    return path


def test_video_summary_and_recording_agree(models_env: Path, astronaut_video: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from db.schema import LessonSession, ObservationRow, Participant
    from db.session import open_database

    url = f"sqlite:///{tmp_path / 'lesson.db'}"
    summary = run_json(capsys, str(astronaut_video), "--rate", "2", "--db", url, "--session", "Recorded lesson")
    assert summary["frames"] == 30
    assert summary["observations"] == 6  # one face, 3 s of video, 2 analyses per second
    assert summary["participants"] == 1 and [p["observations"] for p in summary["per_participant"]] == [6]
    _engine, sessions = open_database(url)
    with sessions() as s:
        assert s.scalar(select(func.count(ObservationRow.id))) == summary["observations"]
        lesson = s.scalar(select(LessonSession))
        assert lesson is not None and lesson.title == "Recorded lesson" and lesson.id == summary["session_id"]
        assert s.scalar(select(func.count(Participant.id))) == summary["participants"]


def test_video_needs_db_and_session_together(models_env: Path, astronaut_video: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(astronaut_video), "--db", "sqlite://"]) == 2
    assert "go together" in capsys.readouterr().err
