"""Real-browser fixtures: skip loudly without the tools; the harness lives in tests/browser/harness/run.py."""
from __future__ import annotations

import pytest

from tests.browser.harness.run import missing_tools


@pytest.fixture(scope="session", autouse=True)
def browser_tools() -> None:
    missing = missing_tools()
    if missing:
        pytest.skip(f"BROWSER TESTS SKIPPED: missing {', '.join(missing)} (scripts/test.sh installs them as root)")
