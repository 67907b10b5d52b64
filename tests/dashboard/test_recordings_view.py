"""The Recorded lessons page under AppTest: a teacher sends a recording and it becomes their ended lesson."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from benchmarks.galleries import GallerySpec, write_gallery
from db.accounts import Account
from db.schema import LessonSession, aware
from db.session import open_database
from services.policy import Policy
from services.teaching import Teaching
from tests.dashboard.conftest import Env
from tests.dashboard.test_views import TEACHER, run

SPEC = GallerySpec("call", 2, 2, 8.0, width=640, height=360, fps=15)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_gallery(tmp_path_factory.mktemp("upload") / "call.mp4", SPEC).read_bytes()


def lessons_of(env: Env, account: Account):  # type: ignore[no-untyped-def]
    return Teaching(open_database(env.url)[1], Policy()).lessons(account)


def test_a_teacher_sends_a_recording_and_it_becomes_their_ended_lesson(app_env: Env, gallery: bytes) -> None:
    from dashboard.resources import recording_jobs
    from db.lessons import get_or_create_course

    with open_database(app_env.url)[1].begin() as s:
        get_or_create_course(s, "9B maths", "teacher")
    at = run("recordings.py")
    at.file_uploader[0].set_value(("Week 3 call.mp4", gallery, "video/mp4")).run()
    assert not at.exception and not at.error
    assert "0:08, 640×360, 15 frames a second" in at.markdown[1].value
    assert at.text_input[0].value == "Week 3 call"
    at.text_input[0].set_value("Week 3 maths")
    at.selectbox[0].set_value("9B maths")
    began = at.date_input[0].value, at.time_input[0].value
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert "is queued" in at.success[0].value
    assert not at.file_uploader[0].value  # emptied: the same file is not sent twice by accident
    (job,) = recording_jobs().status("teacher")
    assert [b.label for b in at.button] == ["Cancel"] and at.get("progress")
    done = recording_jobs().wait(job.id, timeout=120)
    assert done.state == "done", done.error
    at.run()
    assert f"{SPEC.faces} people" in at.success[0].value
    assert [b.label for b in at.button] == ["Open the lesson"]
    (lesson,) = lessons_of(app_env, TEACHER)
    assert (lesson.id, lesson.title, lesson.ended_at is not None) == (done.lesson_id, "Week 3 maths", True)
    with open_database(app_env.url)[1]() as s:
        assert s.get(LessonSession, lesson.id).course.name == "9B maths"
    from dashboard.resources import get_settings

    zone = get_settings().zone
    assert aware(lesson.started_at) == datetime.combine(*began, tzinfo=zone)
    assert run("recordings.py", Account("bob", "teacher")).get("progress") == []  # another teacher's list is empty
    assert lessons_of(app_env, Account("bob", "teacher")) == []


def test_a_file_that_is_no_video_is_refused_before_anything_is_queued(app_env: Env) -> None:
    from dashboard.resources import recording_jobs

    at = run("recordings.py")
    at.file_uploader[0].set_value(("lesson.mp4", b"\x00" * 2048, "video/mp4")).run()
    assert "lesson.mp4: not a video this app can read" in at.error[0].value and "Nothing was sent" in at.error[0].value
    assert not at.button and recording_jobs().status() == []


def test_a_start_time_that_puts_the_end_in_the_future_is_refused(app_env: Env, gallery: bytes) -> None:
    from dashboard.resources import recording_jobs

    at = run("recordings.py")
    at.file_uploader[0].set_value(("call.mp4", gallery, "video/mp4")).run()
    tomorrow = datetime.now() + timedelta(days=1)
    at.date_input[0].set_value(tomorrow.date())
    at.button[0].click().run()
    assert "in the future" in at.error[0].value
    assert recording_jobs().status() == []


def test_a_lesson_older_than_the_retention_period_is_refused(app_env: Env, gallery: bytes) -> None:
    from dashboard.resources import recording_jobs

    at = run("recordings.py")
    at.file_uploader[0].set_value(("call.mp4", gallery, "video/mp4")).run()
    at.date_input[0].set_value((datetime.now() - timedelta(days=31)).date())  # ENGAGE_RETENTION_DAYS: 30
    at.button[0].click().run()
    assert "older than the 30 days this school keeps records" in at.error[0].value
    assert recording_jobs().status() == []


def test_the_page_is_for_staff(app_env: Env) -> None:
    at = run("recordings.py", account=None)
    assert at.subheader[0].value == "Staff sign-in" and not at.file_uploader


def test_an_admin_sees_every_teachers_recordings_with_their_sender(app_env: Env, gallery: bytes) -> None:
    from dashboard.resources import recording_jobs

    at = run("recordings.py")
    at.file_uploader[0].set_value(("call.mp4", gallery, "video/mp4")).run()
    at.button[0].click().run()
    (job,) = recording_jobs().status()
    recording_jobs().wait(job.id, timeout=120)
    admin = run("recordings.py", Account("root", "admin"))
    assert "sent by teacher" in " ".join(m.value for m in admin.markdown)
    assert [b.label for b in admin.button] == ["Open the lesson"]  # the admin may open any teacher's lesson


def test_recordings_are_analysed_with_models_of_their_own(app_env: Env) -> None:
    """Not the streams' shared model: its lock, held by the low-priority recordings thread, would stall the live
    analysis. (The test models folder has no landmark model; the same holds for it.)"""
    from dashboard.resources import classifier, recording_jobs

    run("recordings.py")
    parts = recording_jobs().analysers
    assert parts.classifier is not None and classifier() is not None and parts.classifier is not classifier()
