"""The app's process tree as the browser benchmark measures it: CPU and memory of the app and what it started."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("playwright")
from tests.browser.harness.scenario import cpu_seconds, process_tree, resident_mb  # noqa: E402


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_the_tree_holds_the_processes_a_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(64 * 2**20); time.sleep(30)"])
    try:
        for _ in range(100):  # until the child holds its 64 MB
            if len(memory := resident_mb(os.getpid())) >= 2 and min(memory) >= 64:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert set(process_tree(os.getpid())) >= {os.getpid(), child.pid}
        assert len(memory) >= 2 and min(memory) >= 64 and memory == sorted(memory, reverse=True)
        assert cpu_seconds(os.getpid()) > 0
    finally:
        child.kill()
        child.wait()
