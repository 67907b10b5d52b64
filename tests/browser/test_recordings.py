"""A recorded lesson sent from a real browser, through HAProxy to one of two app processes, analysed there and
opened as the teacher's ended lesson."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.galleries import GallerySpec, write_gallery
from tests.browser.harness.run import CHROMIUM, staff_app
from tests.browser.harness.scenario import CHROMIUM_FLAGS, MAIN, sign_in

pytestmark = pytest.mark.browser
SPEC = GallerySpec("call", 2, 2, 12.0, width=1280, height=720, fps=15)


def test_a_teacher_sends_a_recording_and_opens_the_lesson_it_became(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    recording = write_gallery(tmp_path / "Tuesday call.mp4", SPEC)
    with staff_app(tmp_path) as plan, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        sign_in(page, plan, "recordings")
        page.locator("input[type=file]").set_input_files(str(recording))
        page.get_by_text("0:12, 1280×720, 15 frames a second").wait_for(timeout=60_000)
        page.get_by_role("textbox", name="Lesson title").fill("Tuesday, period 2")
        page.get_by_role("button", name="Analyse").click()
        page.get_by_text("is queued").wait_for(timeout=30_000)
        page.get_by_role("button", name="Open the lesson").wait_for(timeout=120_000)
        # the page may still be drawing when the button appears: these wait for the text, then fail if it never comes
        expect(page.locator(MAIN)).to_contain_text(f"{SPEC.faces} people", timeout=30_000)
        expect(page.locator(MAIN)).to_contain_text("Tuesday, period 2", timeout=30_000)
        page.screenshot(path=str(tmp_path / "recordings.png"), full_page=True)
        page.get_by_role("button", name="Open the lesson").click()
        page.get_by_text("Lesson summary").wait_for(timeout=60_000)
        expect(page.locator(MAIN)).to_contain_text(re.compile(rf"Students joined\s*{SPEC.faces}(?!\d)"), timeout=30_000)
        page.screenshot(path=str(tmp_path / "lesson.png"), full_page=True)
        browser.close()
    assert "Traceback" not in (tmp_path / "app.log").read_text()
