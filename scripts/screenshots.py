"""Screenshots of every view for the README, from a real app in headless Chromium.

PYTHONPATH=. .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

The teacher and admin views are shown on SYNTHETIC records (a demo lesson of six students with made-up
probabilities) so that the charts have something to draw; the student view streams the astronaut for real.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.accounts import create_user  # noqa: E402
from db.lessons import add_participant, create_lesson, get_or_create_course  # noqa: E402
from db.session import open_database  # noqa: E402
from db.writer import ObservationWriter  # noqa: E402
from engine.types import EMOTIONS, AttentionSignals, Box, Observation, Prediction  # noqa: E402
from tests.browser.harness.run import STAFF  # noqa: E402


def synthetic_probabilities(rng: np.random.Generator, t: float, student: int) -> tuple[float, ...]:
    """A slowly drifting class mood (demo only): more Happy early, a Neutral/Sad dip mid-lesson."""
    base = np.array([0.05, 0.01, 0.05, 0.35 + 0.2 * math.cos(t / 300 + student), 0.1 + 0.1 * math.sin(t / 240),
                     0.08, 0.35])
    return tuple(float(p) for p in rng.dirichlet(np.maximum(base, 0.01) * 40))


DEMO_COURSE = "Year 9 maths (demo data)"
ATTENTIVE = AttentionSignals(ear=0.3, eyes_open=True, yaw=2.0, pitch=-10.0, looking_away=False)
AWAY = replace(ATTENTIVE, yaw=40.0, looking_away=True)
DOWN = replace(ATTENTIVE, pitch=-30.0, looking_down=True)


def seed_past_lessons(sessions, owner: str) -> None:  # type: ignore[no-untyped-def]
    """Three ended weekly 30-minute lessons of the demo course (six students, synthetic records): attention falls a
    little week by week, and in the last one the class looks away for five minutes from minute 12."""
    rng = np.random.default_rng(11)
    for week in range(3):
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(weeks=3 - week)
        with sessions.begin() as s:
            lesson = create_lesson(s, f"Fractions, week {week + 1}", owner=owner, start=True,
                                   course=get_or_create_course(s, DEMO_COURSE, owner))
            lesson.started_at, lesson.ended_at = start, start + timedelta(minutes=30)
            lesson_id = lesson.id
            people = [add_participant(s, lesson, f"Student {k + 1}", consent=True).id for k in range(6)]
        writer = ObservationWriter(sessions)
        for second in range(0, 30 * 60, 5):
            for k, pid in enumerate(people):
                dip = week == 2 and 12 * 60 <= second < 17 * 60
                roll = rng.random()
                state = (AWAY if roll < (0.8 if dip else 0.05 + 0.05 * week) else DOWN if roll > 0.9 else ATTENTIVE)
                writer.submit(lesson_id, pid, Observation(start + timedelta(seconds=second), k + 1,
                                                          Box(200, 120, 160, 160),
                                                          Prediction(EMOTIONS, synthetic_probabilities(rng, second, k)),
                                                          "demo", attention=state))
        writer.close()


def seed(url: str) -> str:
    """Three finished demo lessons of one course and a running one (per-student, 6 students); returns the running
    lesson's join code."""
    _engine, sessions = open_database(url)
    start = datetime.now(UTC) - timedelta(minutes=9)
    with sessions.begin() as s:
        create_user(s, STAFF["username"], STAFF["password"], "admin")
    seed_past_lessons(sessions, STAFF["username"])
    with sessions.begin() as s:
        lesson = create_lesson(s, "Fractions, week 4 (demo data)", owner=STAFF["username"],
                               privacy_mode="per-student", start=True,
                               course=get_or_create_course(s, DEMO_COURSE, STAFF["username"]))
        lesson.started_at = start
        running = lesson.id
        people = [add_participant(s, lesson, name, consent=True).id
                  for name in ("Ada", "Ben", "Chloe", "Dev", "Eli", "Farah")]
        code = lesson.join_code
    writer = ObservationWriter(sessions)
    rng = np.random.default_rng(7)
    for second in range(0, 9 * 60, 2):
        for k, pid in enumerate(people):
            if k == 5 and 200 < second < 320:
                continue  # one student steps away for two minutes
            probs = synthetic_probabilities(rng, second, k)
            roll = rng.random()
            state = AWAY if roll < 0.08 else DOWN if roll > 0.85 else ATTENTIVE
            writer.submit(running, pid, Observation(start + timedelta(seconds=second), k + 1, Box(200, 120, 160, 160),
                                                   Prediction(EMOTIONS, probs), "demo", attention=state))
    writer.close()
    return code


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.harness.run import CHROMIUM, astronaut_scene, make_clip, run_scenario
    from tests.browser.harness.scenario import sign_in, start_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parents[1]
    import skimage

    astronaut = cv2.imread(str(Path(skimage.__file__).parent / "data" / "astronaut.png"))
    if astronaut is None:
        raise SystemExit("scikit-image's astronaut.png is missing")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'data' / 'engagement.db'}"
        code = seed(url)
        clip = make_clip(tmp / "student.y4m", astronaut_scene(astronaut, 120, mirrored=False))
        run_scenario(tmp, db_url=url, data_dir=tmp / "data", join_code=code, stream_seconds=6,
                     students=[{"name": "Gus", "clip": str(clip)}], shots_dir=tmp / "shots")
        (tmp / "shots" / "student0.png").replace(args.out / "student.png")
        env = {"ENGAGE_DATABASE_URL": url, "ENGAGE_DATA_DIR": str(tmp / "data"), "ENGAGE_PRIVACY_MODE": "per-student",
               "ENGAGE_MODELS_DIR": str(repo / "models"), "PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin",
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        plan = {"repo": str(repo), "port": 8599, "env": env, "log": str(tmp / "app.log")}
        app = start_app(plan)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1500})
                sign_in(page, {"port": 8599, "staff": STAFF}, "teacher")
                for link, name, wait in (("Teacher dashboard", "teacher", "Per-student timeline"),
                                         ("Administration", "admin", "Records stored"),
                                         ("Privacy & lawful use", "about", "EU AI Act")):
                    page.get_by_role("link", name=link).click()
                    try:
                        page.get_by_text(wait).first.wait_for(timeout=60_000)
                    except Exception:
                        page.screenshot(path=str(args.out / "failure.png"), full_page=True)
                        raise
                    page.wait_for_timeout(2500)
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
                page.get_by_role("link", name="Courses").click()
                page.get_by_text("Attention and mood per lesson").first.wait_for(timeout=60_000)
                page.wait_for_timeout(2500)
                page.screenshot(path=str(args.out / "courses.png"), full_page=True)
                page.get_by_role("link", name="Teacher dashboard").click()
                page.get_by_text("Lesson", exact=True).first.wait_for(timeout=60_000)
                page.locator("[data-testid='stSelectbox']").filter(has_text="Lesson").last.click()
                page.get_by_role("option", name="Fractions, week 3 (ended)").click()
                page.get_by_text("Moments that mattered").first.wait_for(timeout=60_000)
                page.wait_for_timeout(2500)
                page.screenshot(path=str(args.out / "summary.png"), full_page=True)
                page.goto("http://127.0.0.1:8599/photo")
                png = tmp / "astronaut.png"
                cv2.imwrite(str(png), astronaut)
                page.locator("input[type=file]").first.set_input_files(str(png))
                page.get_by_text("Face 1").first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out / "photo.png"), full_page=True)
                browser.close()
        finally:
            app.terminate()
            app.wait(15)
    print(f"wrote screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
