import json
from pathlib import Path

import pytest

from benchmarks.attention_clips import main


def test_clips_of_real_faces_read_as_the_students_behaved(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Three students' webcam clips stream into one lesson through the app's processor, writer and teacher view:
    reading below the camera is looking down, not eyes closed (which the eyes' aspect ratio alone would call most
    of it), shut eyes are closed, and the attention banner comes up once the class has had its eyes shut for three
    windows, never while it faces the screen or reads."""
    assert main(["--part-seconds", "30", "--fps", "5", "--keep", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    parts, banners = result["parts"], result["banners"]
    assert sorted(p.name for p in tmp_path.glob("student-*.mp4")) == ["student-1.mp4", "student-2.mp4", "student-3.mp4"]
    assert parts["screen"]["attentive"] >= 0.9 and parts["screen"]["records"] >= 60
    assert parts["reading"]["looking_down"] >= 0.8 and parts["reading"]["eyes_closed"] <= 0.05
    assert parts["reading"]["closed_by_ear_alone"] >= 0.4
    assert parts["closed"]["eyes_closed"] >= 0.8
    assert parts["aside"]["looking_away"] >= 0.3
    assert banners["screen"] == {} and banners["reading"] == {}
    assert banners["closed"]["attention"][0] == 30  # three 10-s windows of shut eyes
