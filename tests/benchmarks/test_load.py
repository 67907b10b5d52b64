import json

import pytest

from benchmarks.load import main


def test_load_benchmark_loses_nothing_and_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--students", "6", "--seconds", "2", "--teachers", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["expected"] == result["written"] == result["stored"] == 12 and result["lost"] == 0
    assert result["queries"] >= 1 and result["p95_query_ms"] > 0


@pytest.mark.faults
@pytest.mark.parametrize("fault", ["lock", "erase"])
def test_load_with_a_fault_mid_run_loses_nothing(fault: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--students", "5", "--seconds", "6", "--teachers", "1", "--faults", fault, "--fault-seconds", "6",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["lost"] == 0 and result["dropped"] == 0 and result["failed"] == 0
    assert result["stored"] == result["expected"] == (24 if fault == "erase" else 30)
    assert (result["refused"] > 0) == (fault == "erase")
