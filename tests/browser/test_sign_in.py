"""Staff sign-in in a real browser: it lasts across reloads and tabs, and signing out ends it for every copy of
the cookie, on every app process."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.harness.run import CHROMIUM, STAFF, staff_app
from tests.browser.harness.scenario import CHROMIUM_FLAGS, MAIN

pytestmark = pytest.mark.browser


def menu(page: Page) -> list[str]:
    """The page titles in the sidebar's navigation, in order."""
    return [t.split("\n")[-1].strip() for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]  # after the icon


def test_a_teacher_stays_signed_in_across_reloads_and_sign_out_ends_the_cookie(tmp_path: Path) -> None:
    with staff_app(tmp_path) as plan, sync_playwright() as pw:
        base = f"http://127.0.0.1:{plan['port']}"
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context().new_page()
        page.goto(f"{base}/teacher")
        page.get_by_role("link", name="Sign in").wait_for(timeout=60_000)
        assert menu(page) == ["Join a lesson", "Teacher dashboard", "Privacy & lawful use"]  # what students see
        page.get_by_role("link", name="Sign in").click()
        page.get_by_role("textbox", name="Username").fill(STAFF["username"])
        page.get_by_role("textbox", name="Password").fill("a wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong username or password")
        page.get_by_role("textbox", name="Password").fill(STAFF["password"])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as").wait_for(timeout=30_000)
        assert page.url == f"{base}/teacher"  # back on the page that asked
        assert menu(page) == ["Join a lesson", "Teacher dashboard", "Courses", "Recorded lessons", "Analyse a photo",
                              "Your account", "Privacy & lawful use"]  # a teacher's pages (no Administration)
        cookie = next(c for c in page.context.cookies() if c["name"] == "engage_staff")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.reload()
        page.get_by_text("Signed in as").wait_for(timeout=30_000)  # a reload keeps the teacher signed in
        tab = page.context.new_page()  # and so does a link opened in another tab
        tab.goto(f"{base}/teacher")
        tab.get_by_text("Signed in as").wait_for(timeout=30_000)
        tab.close()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_text("Staff sign-in").wait_for(timeout=30_000)
        assert "Courses" not in menu(page)
        # the old cookie, replayed from a fresh browser (which HAProxy may send to the other process)
        for _ in range(2):
            other = browser.new_context()
            other.add_cookies([cookie])
            replay = other.new_page()
            replay.goto(f"{base}/teacher")
            replay.get_by_text("Staff sign-in").wait_for(timeout=30_000)
            expect(replay.locator(MAIN)).to_contain_text("session has ended", timeout=30_000)
            assert "Signed in as" not in replay.inner_text("body")
            other.close()
        browser.close()
