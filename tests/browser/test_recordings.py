"""A recorded lesson sent from a real browser, through HAProxy to one of two app processes, analysed there and
opened as the teacher's ended lesson."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.galleries import GallerySpec, write_gallery
from db.accounts import create_user
from db.session import open_database
from tests.browser.harness.run import CHROMIUM, REPO, STAFF, free_port
from tests.browser.harness.scenario import CHROMIUM_FLAGS, MAIN, sign_in, start_app

pytestmark = pytest.mark.browser
SPEC = GallerySpec("call", 2, 2, 12.0, width=1280, height=720, fps=15)


def test_a_teacher_sends_a_recording_watches_it_progress_and_opens_the_lesson(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    recording = write_gallery(tmp_path / "Tuesday call.mp4", SPEC)
    url = f"sqlite:///{tmp_path / 'data' / 'engagement.db'}"
    _engine, sessions = open_database(url)
    with sessions.begin() as s:
        create_user(s, STAFF["username"], STAFF["password"], "teacher")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env.update(ENGAGE_DATABASE_URL=url, ENGAGE_DATA_DIR=str(tmp_path / "data"), ENGAGE_INSTANCES="2",
               ENGAGE_MODELS_DIR=str(REPO / "models"), PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    plan = {"repo": str(REPO), "port": free_port(), "env": env, "log": str(tmp_path / "app.log"), "staff": STAFF}
    app = start_app(plan)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1400})
            sign_in(page, plan, "recordings")
            page.locator("input[type=file]").set_input_files(str(recording))
            page.get_by_text("0:12, 1280×720, 15 frames a second").wait_for(timeout=60_000)
            page.get_by_role("textbox", name="Lesson title").fill("Tuesday, period 2")
            page.get_by_role("button", name="Analyse").click()
            page.get_by_text("is queued").wait_for(timeout=30_000)
            page.get_by_role("button", name="Open the lesson").wait_for(timeout=120_000)
            page.screenshot(path=str(tmp_path / "recordings.png"), full_page=True)
            text = page.inner_text(MAIN)
            assert f"{SPEC.faces} people" in text and "Tuesday, period 2" in text, text
            page.get_by_role("button", name="Open the lesson").click()
            page.get_by_text("Lesson summary").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "lesson.png"), full_page=True)
            summary = page.inner_text(MAIN)
            assert "Students joined\n\n4" in summary or "Students joined\n4" in summary, summary
            browser.close()
    finally:
        app.terminate()
        app.wait(40)
    assert "Traceback" not in (tmp_path / "app.log").read_text()
