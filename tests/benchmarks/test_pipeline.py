import json
from pathlib import Path

import pytest

from benchmarks.pipeline import main


def test_pipeline_reports_each_stage(tiny_models_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))
    assert main(["--frames", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for size in ("320x240", "640x480"):
        row = result["pipeline"][size]
        assert row["ms_per_frame"] > 0 and row["ms_detect"] > 0 and row["analyses"] >= 1
        assert abs(sum(v for k, v in row.items() if k.startswith("share_")) - 1) < 0.01
