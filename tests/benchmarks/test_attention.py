import json

import pytest

from benchmarks.attention import main


def test_attention_benchmark_separates_open_and_closed_eyes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeats", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    faces = result["faces"]
    assert faces["astronaut"]["eyes_open"] and not faces["eyes edited shut"]["eyes_open"]
    assert all(abs(faces[k]["yaw"]) <= 20 for k in ("astronaut", "mirrored", "rotated 15 deg"))
    assert result["ms_per_face"] > 0
