import json

import pytest

from benchmarks.load import main


def test_load_benchmark_loses_nothing_and_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--students", "6", "--seconds", "2", "--teachers", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["expected"] == result["written"] == result["stored"] == 12 and result["lost"] == 0
    assert result["queries"] >= 1 and result["p95_query_ms"] > 0
