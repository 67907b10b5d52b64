"""The proxy benchmark runs end to end on a small attack and reports what it measured."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.deploy
def test_the_proxy_benchmark_reports_latency_and_closed_attackers() -> None:
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        pytest.skip("DEPLOY TESTS SKIPPED: HAProxy is not installed (scripts/test.sh installs it as root)")
    run = subprocess.run([sys.executable, "-m", "benchmarks.proxy", "--idle", "30", "--slow", "10", "--requests", "10",
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["failed"] == 0 and result["attackers_closed_after_6s"] == 40
    assert 0 < result["health_ms_median"] <= result["health_ms_p95"] <= result["health_ms_max"]
