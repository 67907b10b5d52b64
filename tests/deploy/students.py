"""Students on their own host for the multi-host test: python tests/deploy/students.py PLAN.json (in the students'
network namespace). Each student opens the proxy's join link in Chromium, joins and streams; the script writes
`streaming.json` (who is on which instance), waits for the test to kill an app instance (`killed`), then the student
whose instance died reloads the page, joins again and streams, and `result.json` says where everyone ended up."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness.scenario import CHROMIUM_FLAGS, join  # noqa: E402


def instance(page) -> str | None:  # type: ignore[no-untyped-def]
    return next((c["value"] for c in page.context.cookies() if c["name"] == "engage_instance"), None)


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    folder = Path(plan["folder"])
    with sync_playwright() as p:
        pages, entries = [], []
        for student in plan["students"]:
            browser = p.chromium.launch(executable_path=plan["chromium"], headless=True,
                                        args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={student['clip']}"])
            page = browser.new_page(ignore_https_errors=True)  # the classroom's self-signed certificate
            entry = {"name": student["name"], "presses": join(page, plan, {"name": student["name"]})}
            entry["instance"] = instance(page)
            pages.append(page)
            entries.append(entry)
        (folder / "streaming.json").write_text(json.dumps(entries))
        deadline = time.monotonic() + 240
        while not (folder / "killed").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        victim = (folder / "killed").read_text().strip() if (folder / "killed").exists() else ""
        for page, entry in zip(pages, entries):
            if entry["instance"] == victim:  # this student's instance died: reload, as a student would
                page.reload()
                entry["rejoin_presses"] = join(page, plan, {"name": entry["name"] + " again"})
                entry["instance_after"] = instance(page)
        time.sleep(plan["stream_after_s"])
        for page, entry in zip(pages, entries):
            entry["page_text"] = page.inner_text("section.main, [data-testid='stMain']")[:400]
        (folder / "result.json").write_text(json.dumps(entries))


if __name__ == "__main__":
    main()
