"""Every view but the streaming one, run headless with AppTest against a real SQLite database."""
from __future__ import annotations

import os

import cv2
import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.accounts import Account, AccountError, authenticate, create_user, set_disabled
from db.schema import LessonSession, ObservationRow, Participant, User
from db.session import open_database
from db.staff_sessions import open_session, resolve
from services.joining import Membership
from tests.dashboard.conftest import VIEWS, Env, fill_lesson

TIMEOUT = 60


TEACHER, ADMIN = Account("teacher", "teacher"), Account("root", "admin")


def token_for(account: Account) -> str:
    """A real staff session for `account` (made on first use) in the test's database; AppTest sends no cookies,
    so the views are given its token directly (dashboard.auth.TOKEN_KEY) and resolve it like a cookie's."""
    _engine, sessions = open_database(os.environ["ENGAGE_DATABASE_URL"])
    with sessions.begin() as s:
        if s.scalar(select(User).where(User.username == account.username)) is None:
            create_user(s, account.username, "a long test password", account.role)
        return open_session(s, account.username)


def run(view: str, account: Account | None = TEACHER) -> AppTest:
    at = AppTest.from_file(str(VIEWS / view), default_timeout=TIMEOUT)
    if account is not None:
        at.session_state["staff_token"] = token_for(account)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def count(url: str, column) -> int:  # type: ignore[no-untyped-def]
    _engine, sessions = open_database(url)
    with sessions() as s:
        return int(s.scalar(select(func.count(column))) or 0)


def test_teacher_with_no_lessons_is_told_what_to_do(app_env: Env) -> None:
    at = run("teacher.py")
    assert "No lessons yet" in at.info[0].value


def test_teacher_creates_a_lesson_and_sees_its_join_code(app_env: Env) -> None:
    at = run("teacher.py")
    at.text_input[0].set_value("Year 9 maths")
    at.button[0].click()  # the form's Create button
    at.run()
    assert not at.exception
    _engine, sessions = open_database(app_env.url)
    with sessions() as s:
        lesson = s.scalar(select(LessonSession))
    assert lesson is not None and lesson.title == "Year 9 maths" and lesson.started_at is not None
    assert any(lesson.join_code in m.value for m in at.markdown)


def test_teacher_sees_live_class_mood(app_env: Env) -> None:
    fill_lesson(app_env.url, "Biology", students=4, seconds=60)
    at = run("teacher.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Joined"] == "4" and metrics["Records"] == "240" and metrics["Streaming now"] == "4"
    assert len(at.get("plotly_chart")) == 3  # mood area, current distribution, students streaming
    assert not at.caption or "hidden" not in at.caption[0].value


def test_aggregate_mode_hides_windows_with_too_few_students(app_env: Env) -> None:
    fill_lesson(app_env.url, "Tiny group", students=2, seconds=30)
    at = run("teacher.py")
    assert any("2 students streaming: class figures appear from 3" in i.value for i in at.info)
    assert any("Right now: fewer than 3 students in the latest window" in i.value for i in at.info)  # nothing stale
    charts = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Hidden until 3 students stream at once" in charts and "No emotion data yet" not in charts  # not "no data"


def test_a_replay_says_which_windows_are_hidden(app_env: Env) -> None:
    fill_lesson(app_env.url, "Tiny group", students=2, seconds=30, ended=True)
    at = run("teacher.py")
    assert any("fewer than 3 students are hidden" in c.value for c in at.caption)


def test_per_student_timeline_only_when_the_deployment_allows(app_env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_lesson(app_env.url, "Chemistry", students=3, seconds=40, privacy_mode="per-student")
    assert len(run("teacher.py").get("plotly_chart")) == 3  # the deployment is aggregate-only: no heat map
    monkeypatch.setenv("ENGAGE_PRIVACY_MODE", "per-student")
    import streamlit as st

    st.cache_resource.clear()
    assert len(run("teacher.py").get("plotly_chart")) == 4


def test_past_lessons_replay_as_charts(app_env: Env) -> None:
    fill_lesson(app_env.url, "Last week", students=3, seconds=30, ended=True)
    at = run("teacher.py")
    assert [h.value for h in at.subheader] == ["Lesson summary", "Replay"] and len(at.get("plotly_chart")) == 3
    assert at.get("download_button")[0].label == "Lesson report (HTML)"


def test_an_ended_lesson_summarises_itself_with_the_moment_the_class_looked_away(app_env: Env) -> None:
    """Three students for 12 minutes yesterday (within the retention the app applies at start-up), recorded through
    the real writer; from 09:06 to 09:09 they look away."""
    from datetime import UTC, datetime, timedelta

    from tests.db.test_class_figures import ATTENTIVE, AWAY, lesson_with

    t0 = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    _engine, sessions = open_database(app_env.url)
    plan = [(name, m, "Happy", AWAY if 6 <= m < 9 else ATTENTIVE) for name in ("Ada", "Bob", "Cy") for m in range(12)]
    lesson_id = lesson_with(sessions, plan, start=t0)
    with sessions.begin() as s:
        lesson = s.get(LessonSession, lesson_id)
        lesson.owner, lesson.ended_at = "teacher", t0 + timedelta(minutes=12)
    at = run("teacher.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Duration"] == "12 min" and metrics["Students joined"] == "3" and metrics["Attentive"] == "75%"
    table = next(d.value for d in at.dataframe if "what happened" in d.value.columns)
    assert table["what happened"].tolist() == ["Attention fell from 100% to 0% for 3 min (3 students)"]
    assert table["from"].tolist() == ["09:06"]  # the server's zone here is UTC
    spec = next(c.proto.spec for c in at.get("plotly_chart") if "Attention per minute" in c.proto.spec)
    assert '"type":"rect"' in spec  # the moment is shaded on the chart
    at.session_state[f"moments-{lesson_id}"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()  # the teacher selects the moment: the replay narrows to it
    assert not at.exception and any("Around the selected moment" in c.value for c in at.caption)
    replay = next(c.proto.spec for c in at.get("plotly_chart") if '"text":"Attention"' in c.proto.spec)
    assert f'"range":["{t0:%Y-%m-%d}T09:04:00' in replay and '"type":"rect"' in replay  # 2 minutes either side


def test_admin_lists_exports_and_deletes(app_env: Env) -> None:
    fill_lesson(app_env.url, "History", students=3, seconds=20, ended=True)
    keep = fill_lesson(app_env.url, "Geography", students=3, seconds=10, ended=True)
    at = run("admin.py", ADMIN)
    lessons = next(d for d in at.dataframe if "lesson" in d.value.columns)
    assert set(lessons.value["lesson"]) == {"History", "Geography"}
    # aggregate lessons: the report and the per-minute figures, no per-observation export
    assert [b.label for b in at.get("download_button")] == ["Per-minute class figures (CSV)", "Session report (HTML)"]
    assert any("per-student lessons only" in c.value for c in at.caption)
    assert {"owner", "privacy"} <= set(lessons.value.columns) and set(lessons.value["owner"]) == {"teacher"}
    history = keep - 1
    [box for box in at.selectbox if box.label == "Lesson"][0].set_value(history).run()
    at.text_input(key=f"confirm-{history}").set_value("History").run()
    at.button(key="delete-lesson").click().run()
    assert not at.exception
    assert count(app_env.url, ObservationRow.id) == 30 and count(app_env.url, Participant.id) == 3


def test_student_join_errors_are_clear(app_env: Env) -> None:
    at = run("student.py", account=None)
    at.text_input[0].set_value("ZZZZZZ")
    at.text_input[1].set_value("Ada")
    at.button[0].click().run()
    assert "no running lesson" in at.error[0].value
    at.text_input[0].set_value("bad!")
    at.button[0].click().run()
    assert "join code is 6 letters" in at.error[0].value
    at.text_input[1].set_value("   ")
    at.button[0].click().run()
    assert "display name" in at.error[0].value
    assert count(app_env.url, Participant.id) == 0


@pytest.mark.parametrize("lesson_mode, deployment_mode, visible", [
    ("aggregate", "aggregate", "the class as a whole only"),
    ("per-student", "aggregate", "the class as a whole only"),  # a lesson cannot widen the deployment's mode
    ("per-student", "per-student", "your teacher can see your own timeline"),
])
def test_consent_says_what_this_lesson_shows_and_nothing_is_recorded_without_it(
    app_env: Env, monkeypatch: pytest.MonkeyPatch, lesson_mode: str, deployment_mode: str, visible: str
) -> None:
    import streamlit as st

    monkeypatch.setenv("ENGAGE_PRIVACY_MODE", deployment_mode)
    st.cache_resource.clear()
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        from db.lessons import create_lesson

        code = create_lesson(s, "Art", owner="teacher", privacy_mode=lesson_mode, start=True).join_code
    at = run("student.py", account=None)
    at.text_input[0].set_value(code.lower())
    at.text_input[1].set_value("Ada")
    at.button[0].click().run()
    assert at.subheader[0].value == "Art" and visible in at.markdown[0].value
    at.button[0].click().run()  # Join without ticking the box
    assert "tick the box" in at.error[0].value and count(app_env.url, Participant.id) == 0


def test_a_student_whose_records_were_erased_is_told_and_streams_no_more(app_env: Env) -> None:
    """AppTest cannot run the streamer itself (tests/browser does): a page that still streams reaches it, past the
    overlay toggle; an erased student's page stops before it."""
    from db.retention import delete_participant_data

    lesson_id = fill_lesson(app_env.url, "Biology", students=3, seconds=5)
    _engine, sessions = open_database(app_env.url)
    with sessions() as s:
        ann, ben = s.scalars(select(Participant.id).where(Participant.session_id == lesson_id)).all()[:2]
    with sessions.begin() as s:
        delete_participant_data(s, ann)  # an admin erases Ann's records while the lesson runs
    pages = []
    for who in (ann, ben):
        student = AppTest.from_file(str(VIEWS / "student.py"), default_timeout=TIMEOUT)
        student.session_state["student"] = Membership(lesson_id, "Biology", who, f"Student {who}")
        pages.append(student.run())
    erased, other = pages
    assert "were deleted by the school" in erased.info[0].value and not erased.toggle
    assert [b.label for b in erased.button] == ["Join another lesson"]
    assert not other.info and [t.label for t in other.toggle] == ["Show what the software sees"]  # Ben streams on


def test_attention_only_consent_mentions_no_emotion_analysis() -> None:
    from dashboard.consent import consent_text

    text = consent_text(emotion_inference=False, per_student=False, min_group=3)
    assert "no emotion analysis" in text and "Surprise" not in text


def test_still_image_shows_every_face_with_seven_probabilities(app_env: Env, astronaut_bgr) -> None:  # type: ignore[no-untyped-def]
    at = run("still.py")
    ok, png = cv2.imencode(".png", astronaut_bgr)
    at.file_uploader[0].set_value(("astronaut.png", png.tobytes(), "image/png")).run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    assert at.toggle[0].value is True  # the tiny model ships Keras weights, so Grad-CAM is offered


def test_still_image_rejects_a_file_that_is_not_an_image(app_env: Env) -> None:
    at = run("still.py")
    at.file_uploader[0].set_value(("notes.png", b"not really a png", "image/png")).run()
    assert "not an image" in at.error[0].value


def test_about_page_explains_attention_only_mode(app_env: Env) -> None:
    at = run("about.py")
    assert "Article 5(1)(f)" in at.markdown[0].value and "attention-only" in at.markdown[0].value


def test_staff_pages_ask_for_a_sign_in_and_a_session_ends_with_its_account(app_env: Env) -> None:
    at = run("teacher.py", account=None)
    assert at.subheader[0].value == "Staff sign-in" and not at.get("plotly_chart")
    assert "/auth/sign-in?next=/teacher" in at.get("html")[0].proto.body
    at = run("teacher.py")
    assert at.title[0].value == "Teacher dashboard"
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        create_user(s, "root", "a long test password", "admin")
        set_disabled(s, "teacher", True, by="root")
    at.run()  # the same browser, its account disabled meanwhile
    assert at.subheader[0].value == "Staff sign-in" and "session has ended" in at.markdown[0].value


def test_a_teacher_changes_their_password_and_their_other_browsers_are_signed_out(app_env: Env) -> None:
    other = token_for(TEACHER)
    at = run("account.py")
    at.text_input[0].set_value("a long test password")
    at.text_input[1].set_value("a new long password")
    at.text_input[2].set_value("a new long password")
    at.button[0].click().run()
    assert "Password changed. 1 other browser signed out." in at.success[0].value
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        assert resolve(s, other) is None and resolve(s, at.session_state["staff_token"]) == TEACHER
        authenticate(s, "teacher", "a new long password")


def test_an_admin_disables_an_account(app_env: Env) -> None:
    teacher_token = token_for(TEACHER)
    at = run("admin.py", ADMIN)
    at.selectbox(key="account-to-change").set_value("teacher").run()
    at.button(key="toggle-account").click().run()
    assert "Disabled teacher; 1 signed-in browser(s) signed out." in at.success[0].value
    _engine, sessions = open_database(app_env.url)
    with sessions() as s:
        assert resolve(s, teacher_token) is None
        with pytest.raises(AccountError, match="disabled"):
            authenticate(s, "teacher", "a long test password")


def test_an_admin_sets_a_forgotten_password(app_env: Env) -> None:
    teacher_token = token_for(TEACHER)
    at = run("admin.py", ADMIN)
    at.selectbox(key="account-to-change").set_value("teacher").run()
    at.text_input(key="new-password").set_value("given in person 42")
    at.text_input(key="new-password-again").set_value("given in person 24")
    at.button(key="FormSubmitter:set-password-Set this password (signs the account out everywhere)").click().run()
    assert "The two passwords differ." in at.error[0].value
    at.text_input(key="new-password").set_value("given in person 42")
    at.text_input(key="new-password-again").set_value("given in person 42")
    at.button(key="FormSubmitter:set-password-Set this password (signs the account out everywhere)").click().run()
    assert "New password set for teacher; 1 signed-in browser(s) signed out." in at.success[0].value
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        assert resolve(s, teacher_token) is None
        assert authenticate(s, "teacher", "given in person 42") == TEACHER


def test_the_admin_page_refuses_teachers(app_env: Env) -> None:
    at = run("admin.py", TEACHER)
    assert "for admin accounts" in at.error[0].value and not at.get("download_button")


def test_a_teacher_sees_only_their_own_lessons_even_with_a_guessed_id(app_env: Env) -> None:
    theirs = fill_lesson(app_env.url, "Someone else's lesson", students=3, seconds=10, owner="bob")
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        from db.lessons import create_lesson

        create_lesson(s, "My lesson", owner="teacher", start=True)
    at = AppTest.from_file(str(VIEWS / "teacher.py"), default_timeout=TIMEOUT)
    at.session_state["staff_token"] = token_for(TEACHER)
    at.session_state["lesson_id"] = theirs  # a guessed id
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " ".join(str(b.options) for b in at.selectbox)
    assert "My lesson" in text and "Someone else" not in text
    assert {m.label: m.value for m in at.metric}["Records"] == "0"


def test_admin_deletes_one_participants_data(app_env: Env) -> None:
    fill_lesson(app_env.url, "Physics", students=3, seconds=10, ended=True)
    at = run("admin.py", ADMIN)
    assert at.button(key="delete-participant").disabled  # not before the admin confirms
    first = at.selectbox(key="participant").value
    at.checkbox(key=f"sure-{first}").check().run()
    at.button(key="delete-participant").click().run()
    assert not at.exception and "Deleted 10 records" in at.success[0].value
    assert count(app_env.url, ObservationRow.id) == 20 and count(app_env.url, Participant.id) == 2


def test_attention_only_never_loads_the_emotion_model(app_env: Env, monkeypatch: pytest.MonkeyPatch,
                                                     astronaut_bgr) -> None:  # type: ignore[no-untyped-def]
    import streamlit as st

    from dashboard import resources

    def forbidden(*_args: object) -> None:
        raise AssertionError("the classifier must not be loaded in attention-only mode")

    monkeypatch.setenv("ENGAGE_PRIVACY_MODE", "attention-only")
    monkeypatch.setattr(resources, "load_classifier", forbidden)
    st.cache_resource.clear()
    assert resources.classifier() is None and resources.explainer() is None
    at = run("still.py", account=None)
    ok, png = cv2.imencode(".png", astronaut_bgr)
    at.file_uploader[0].set_value(("astronaut.png", png.tobytes(), "image/png")).run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("emotion inference is off" in m.value for m in at.markdown)


def test_attention_only_teacher_view_shows_attention_not_mood(app_env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    monkeypatch.setenv("ENGAGE_PRIVACY_MODE", "attention-only")
    st.cache_resource.clear()
    fill_lesson(app_env.url, "Attention only", students=3, seconds=30, attention_only=True)
    at = run("teacher.py")
    assert any("without emotion inference" in i.value for i in at.info)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 2 and '"Attention"' in specs[0] and "Students streaming" in specs[1]


def test_a_markdown_lesson_title_is_shown_as_typed(app_env: Env) -> None:
    from markdown_it import MarkdownIt

    title = "[Click for free pizza](https://evil.example) **now**"
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        from db.lessons import create_lesson

        code = create_lesson(s, title, owner="teacher", start=True).join_code
    at = run("student.py", account=None)
    at.text_input[0].set_value(code)
    at.text_input[1].set_value("[me](https://x.example)")
    at.button[0].click().run()
    (tokens,) = MarkdownIt().parseInline(at.subheader[0].value)
    assert [t.type for t in tokens.children or []] == ["text"] and tokens.children[0].content == title


NASTY = "[Click for free pizza](https://evil.example) **bold** <b>tag</b> :material/warning:"
MARKDOWN_KINDS = ("markdown", "success", "info", "warning", "error", "caption", "subheader", "title", "header")


def markdown_mentions(at: AppTest) -> list[str]:
    """Every Markdown-rendered string of a page (main area and sidebar) that mentions the nasty name."""
    return [e.value for kind in MARKDOWN_KINDS for e in at.get(kind)
            if isinstance(getattr(e, "value", None), str) and "pizza" in e.value]


def test_a_nasty_title_and_display_name_are_plain_text_on_every_page(app_env: Env,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Teacher (per-student: the timeline's rows are display names), admin, and the student's own page once the
    lesson has ended: wherever the name reaches Markdown it is escaped, and Plotly gets it without its tags."""
    import streamlit as st

    from dashboard.text import md_escape

    monkeypatch.setenv("ENGAGE_PRIVACY_MODE", "per-student")
    st.cache_resource.clear()
    lesson_id = fill_lesson(app_env.url, NASTY, students=3, seconds=20, privacy_mode="per-student", ended=True)
    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        from db.schema import Participant as P

        for person in s.scalars(select(P).where(P.session_id == lesson_id)):
            person.display_name = NASTY + f" {person.id}"
    teacher = run("teacher.py")
    heat = next(c.proto.spec for c in teacher.get("plotly_chart") if "Per-student timeline" in c.proto.spec)
    assert "&lt;b&gt;tag&lt;" in heat and "<b>tag" not in heat  # the rows' labels, without their tags
    admin = run("admin.py", ADMIN)
    admin.text_input(key=f"confirm-{lesson_id}").set_value("not it").run()
    student = AppTest.from_file(str(VIEWS / "student.py"), default_timeout=TIMEOUT)
    student.session_state["student"] = Membership(lesson_id, NASTY, 1, NASTY)
    student.run()
    assert any("has ended" in i.value for i in student.info)
    for page, at in (("teacher", teacher), ("admin", admin), ("student", student)):
        mentions = markdown_mentions(at)
        assert all(md_escape(NASTY) in text for text in mentions), (page, mentions)
    assert markdown_mentions(admin) and markdown_mentions(student)  # the name did reach Markdown there


def test_the_join_link_and_its_qr_code_open_the_student_page_with_the_code_filled_in(app_env: Env) -> None:
    import numpy as np

    from dashboard.joining import join_link, qr_png

    link = join_link("https://school.example:8501/teacher", "K7PM3Q")
    assert link == "https://school.example:8501/?code=K7PM3Q"
    image = cv2.imdecode(np.frombuffer(qr_png(link), np.uint8), cv2.IMREAD_COLOR)
    assert cv2.QRCodeDetector().detectAndDecode(image)[0] == link  # a phone's camera reads the same link
    fill_lesson(app_env.url, "Running", students=3, seconds=5)
    teacher = run("teacher.py")
    assert teacher.get("image")  # the QR code is shown
    assert any("/?code=" in c.value for c in teacher.code)
    student = AppTest.from_file(str(VIEWS / "student.py"), default_timeout=TIMEOUT)
    student.query_params["code"] = "K7PM3Q"
    student.run()
    assert student.text_input[0].value == "K7PM3Q"


def test_a_course_with_three_lessons_shows_their_trend_and_table(app_env: Env) -> None:
    """Three weekly lessons of one course in the last weeks (within the retention the app applies at start-up),
    recorded through the real writer; the second had only two students (no class figures), the third was less
    attentive."""
    from datetime import UTC, datetime, timedelta

    from db.lessons import get_or_create_course
    from tests.db.test_class_figures import ATTENTIVE, AWAY, lesson_with

    t0 = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(weeks=3)

    _engine, sessions = open_database(app_env.url)
    ids = []
    for week, (names, away_minutes) in enumerate([(("Ada", "Bob", "Cy"), ()), (("Ada", "Bob"), ()),
                                                   (("Ada", "Bob", "Cy"), (0, 1))]):
        plan = [(n, m, "Happy", AWAY if m in away_minutes else ATTENTIVE) for n in names for m in range(4)]
        ids.append(lesson_with(sessions, plan, start=t0 + timedelta(weeks=week)))
        with sessions.begin() as s:
            lesson = s.get(LessonSession, ids[-1])
            lesson.owner, lesson.course = "teacher", get_or_create_course(s, "9B maths", "teacher")
            lesson.ended_at = lesson.started_at + timedelta(minutes=4)
    at = run("courses.py")
    assert not at.exception and "9B maths (3 lessons)" in at.selectbox[0].options[0]
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert table["students"].tolist() == [3, 2, 3]
    assert table["attentive"].tolist()[0] == 1.0 and table["attentive"].tolist()[2] == 0.5
    assert pd.isna(table["attentive"].tolist()[1])  # two students: no class figure
    other = run("courses.py", Account("bob", "teacher"))  # another teacher sees none of it
    assert "No courses yet" in other.info[0].value


def test_a_teacher_files_a_new_lesson_under_one_of_their_courses(app_env: Env) -> None:
    from db.lessons import get_or_create_course

    _engine, sessions = open_database(app_env.url)
    with sessions.begin() as s:
        get_or_create_course(s, "9B maths", "teacher")
        get_or_create_course(s, "Someone else's", "bob")
    at = run("teacher.py")
    assert at.selectbox[0].options == ["9B maths"]  # their own courses only; a new name may be typed too
    at.text_input[0].set_value("Fractions")
    at.selectbox[0].set_value("9B maths")
    at.button[0].click().run()
    assert not at.exception
    _engine, sessions = open_database(app_env.url)
    with sessions() as s:
        lesson = s.scalar(select(LessonSession))
        assert lesson.title == "Fractions" and lesson.course.name == "9B maths" and lesson.course.owner == "teacher"


def test_the_live_banner_says_why_and_since_when_and_can_be_silenced(app_env: Env) -> None:
    """Three students looking away for the last minute of a running lesson (recorded through the real writer)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from db.lessons import add_participant, create_lesson
    from db.writer import ObservationWriter
    from tests.db.conftest import make_observation
    from tests.db.test_class_figures import AWAY

    _engine, sessions = open_database(app_env.url)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    with sessions.begin() as s:
        lesson = create_lesson(s, "Running", owner="teacher", start=True)
        people = [add_participant(s, lesson, n, consent=True).id for n in ("Ada", "Bob", "Cy")]
        lesson_id = lesson.id
    writer = ObservationWriter(sessions)
    for second in range(60):
        for pid in people:
            writer.submit(lesson_id, pid, replace(make_observation("Neutral", start + timedelta(seconds=second)),
                                                  attention=AWAY))
    writer.close()
    at = run("teacher.py")
    (warning,) = at.warning
    assert warning.value.startswith("Attention needed since ") and "looking away" in warning.value
    at.button(key="silence").click().run()
    assert not at.warning
