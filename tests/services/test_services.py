"""The service layer on a real database: lesson operations for each kind of user, the privacy rule on every figure."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from db.accounts import Account, AccountError, create_user
from db.lessons import LessonError
from db.schema import ObservationRow
from db.writer import ObservationWriter
from engine.types import AttentionSignals
from services.administration import Administration
from services.joining import Joining
from services.policy import Policy
from services.staff import Staff
from services.teaching import Teaching
from tests.db.conftest import make_observation

ALICE, BOB, ADMIN = Account("alice", "teacher"), Account("bob", "teacher"), Account("root", "admin")
AGGREGATE, PER_STUDENT = Policy("aggregate", 3), Policy("per-student", 3)
SIGNALS = AttentionSignals(0.3, True, 0.0, -10.0, False)


@pytest.fixture
def sessions(db):  # type: ignore[no-untyped-def]
    return db[1]


def record(sessions, lesson_id: int, participants: list[int], seconds: int = 30) -> None:  # type: ignore[no-untyped-def]
    """Every participant observed once a second for the last `seconds` seconds."""
    writer = ObservationWriter(sessions)
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    for second in range(seconds):
        for pid in participants:
            writer.submit(lesson_id, pid, replace(make_observation(ts=start + timedelta(seconds=second)), attention=SIGNALS))
    writer.close()


def class_of(sessions, policy: Policy, students: int, mode: str = "aggregate") -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    lesson_id = Teaching(sessions, policy).create(ALICE, "Chemistry", course="9B", privacy_mode=mode, start=True)
    joining = Joining(sessions, policy)
    from db.schema import LessonSession

    with sessions() as s:
        code = s.get(LessonSession, lesson_id).join_code
    people = [joining.join(joining.invitation(code, f"Student {i}", client=f"10.0.0.{i}")).participant_id
              for i in range(students)]
    record(sessions, lesson_id, people)
    return lesson_id, people


def test_students_join_with_a_code_and_consent_and_not_after_the_end(sessions) -> None:  # type: ignore[no-untyped-def]
    teaching, joining = Teaching(sessions, AGGREGATE), Joining(sessions, AGGREGATE)
    lesson_id = teaching.create(ALICE, "Maths", course=None, privacy_mode="aggregate", start=True)
    lesson = teaching.lessons(ALICE)[0]
    with pytest.raises(LessonError, match="no running lesson"):
        joining.invitation("ZZZZ99" if lesson.join_code != "ZZZZ99" else "YYYY99", "Ann", client="1.2.3.4")
    invitation = joining.invitation(lesson.join_code.lower(), "  Ann ", client="1.2.3.4")
    assert (invitation.lesson_id, invitation.name, invitation.per_student) == (lesson_id, "Ann", False)
    member = joining.join(invitation)
    assert member.lesson_id == lesson_id and member.name == "Ann"
    teaching.end(ALICE, lesson_id)
    with pytest.raises(LessonError, match="ended"):
        joining.join(invitation)


def test_teachers_see_and_run_only_their_own_lessons(sessions) -> None:  # type: ignore[no-untyped-def]
    teaching = Teaching(sessions, AGGREGATE)
    mine = teaching.create(ALICE, "Mine", course=" 9B maths ", privacy_mode="per-student", start=False)
    teaching.create(BOB, "His", course=None, privacy_mode="aggregate", start=False)
    (lesson,) = teaching.lessons(ALICE)
    assert lesson.id == mine and lesson.privacy_mode == "aggregate"  # the deployment allows no per-student lesson
    assert teaching.course_names(ALICE) == ["9B maths"] and teaching.course_names(BOB) == []
    assert len(teaching.lessons(ADMIN)) == 2
    with pytest.raises(LessonError, match="no such lesson"):
        teaching.start(BOB, mine)
    teaching.start(ALICE, mine)
    teaching.end(ADMIN, mine)
    (lesson,) = teaching.lessons(ALICE)
    assert lesson.started_at is not None and lesson.ended_at is not None


def test_a_small_class_shows_no_class_figures_and_no_individuals(sessions) -> None:  # type: ignore[no-untyped-def]
    lesson_id, _people = class_of(sessions, AGGREGATE, students=2)
    teaching = Teaching(sessions, AGGREGATE)
    view = teaching.class_view(teaching.lessons(ALICE)[0], live=True)
    assert (view.joined, view.streaming, view.individuals) == (2, 2, False)
    assert view.mood.empty and view.attention.empty and view.measured_attention and view.hidden > 0
    assert view.current_hidden and view.timeline is None and view.names is None and view.alerts == []
    assert set(view.people["participants"]) == {2}  # how many students were there is no one's figure


def test_a_class_at_the_threshold_shows_figures_and_a_per_student_lesson_shows_people(sessions) -> None:  # type: ignore[no-untyped-def]
    class_of(sessions, AGGREGATE, students=3)
    teaching = Teaching(sessions, AGGREGATE)
    view = teaching.class_view(teaching.lessons(ALICE)[0], live=False)
    assert not view.mood.empty and not view.attention.empty and view.hidden == 0 and not view.current_hidden
    assert view.timeline is None
    per_student = Teaching(sessions, PER_STUDENT)
    lesson_id, people = class_of(sessions, PER_STUDENT, students=1, mode="per-student")
    lesson = next(x for x in per_student.lessons(ALICE) if x.id == lesson_id)
    view = per_student.class_view(lesson, live=True)
    assert view.individuals and not view.mood.empty and view.timeline is not None and set(view.names or {}) == set(people)
    assert Teaching(sessions, AGGREGATE).class_view(lesson, live=True).timeline is None  # the deployment decides


def test_exports_keep_the_privacy_rule(sessions) -> None:  # type: ignore[no-untyped-def]
    lesson_id, people = class_of(sessions, AGGREGATE, students=2)
    admin = Administration(sessions, AGGREGATE)
    ((lesson, summary),) = admin.lessons()
    assert summary.participants == 2
    exports = admin.exports(lesson, UTC)
    assert exports.observations is None and exports.minutes.empty and exports.figures.hidden == exports.figures.windows
    assert set(admin.pseudonyms(lesson_id)) == set(people)
    assert admin.delete_participant(people[0]) == 30
    assert admin.delete_lesson(lesson_id) == 30 and admin.lessons() == []


def test_staff_sign_in_out_and_a_password_change_signs_out_other_browsers(sessions) -> None:  # type: ignore[no-untyped-def]
    staff, admin = Staff(sessions), Administration(sessions, AGGREGATE)
    assert staff.no_accounts()
    admin.create_account("alice", "a long passphrase", "teacher")
    with pytest.raises(AccountError):
        staff.sign_in("alice", "wrong password!", client="1.1.1.1")
    laptop, phone = (staff.sign_in("alice", "a long passphrase", client="1.1.1.1") for _ in range(2))
    assert staff.signed_in(laptop) == Account("alice", "teacher")
    assert staff.change_password("alice", "a long passphrase", "another long one", client="1.1.1.1", keep=laptop) == 1
    assert staff.signed_in(phone) is None and staff.signed_in(laptop) is not None
    staff.sign_out(laptop)
    assert staff.signed_in(laptop) is None


def test_disabling_an_account_signs_it_out_everywhere(sessions) -> None:  # type: ignore[no-untyped-def]
    staff, admin = Staff(sessions), Administration(sessions, AGGREGATE)
    with sessions.begin() as s:
        create_user(s, "root", "a long passphrase", "admin")
    admin.create_account("bob", "a long passphrase", "teacher")
    tokens = [staff.sign_in("bob", "a long passphrase", client="2.2.2.2") for _ in range(3)]
    assert admin.set_disabled("bob", True, by="root") == 3
    assert all(staff.signed_in(t) is None for t in tokens)
    assert admin.set_disabled("bob", False, by="root") == 0
    assert [a.disabled for a in admin.accounts() if a.username == "bob"] == [False]


def test_a_new_password_from_an_admin_signs_the_account_out_everywhere(sessions) -> None:  # type: ignore[no-untyped-def]
    staff, admin = Staff(sessions), Administration(sessions, AGGREGATE)
    admin.create_account("bob", "a long passphrase", "teacher")
    tokens = [staff.sign_in("bob", "a long passphrase", client="2.2.2.2") for _ in range(2)]
    assert admin.set_password("bob", "given in person 42", by="root") == 2
    assert all(staff.signed_in(t) is None for t in tokens)
    assert staff.signed_in(staff.sign_in("bob", "given in person 42", client="2.2.2.2")) == Account("bob", "teacher")


def test_a_recording_becomes_an_ended_lesson_and_never_writes_into_an_ended_one(sessions) -> None:  # type: ignore[no-untyped-def]
    from services.recordings import Recordings

    recordings, start = Recordings(sessions), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    observations = [replace(make_observation(ts=start + timedelta(seconds=s)), track_id=n) for s in range(10) for n in (1, 2)]
    lesson_id = recordings.record("Recorded", "alice", started=start, seconds=10.0, participants=[1, 2],
                                  observations=observations)
    (lesson,) = Teaching(sessions, AGGREGATE).lessons(ALICE)
    assert lesson.id == lesson_id and (lesson.ended_at - lesson.started_at) == timedelta(seconds=10)  # type: ignore[operator]
    assert Administration(sessions, AGGREGATE).lessons()[0][1].observations == 20
    with pytest.raises(LessonError, match="already ended"):
        recordings.record("Recorded", "alice", started=start, seconds=10.0, participants=[1], observations=[])
    running = Teaching(sessions, AGGREGATE).create(ALICE, "Live", course=None, privacy_mode="aggregate", start=True)
    recordings.record("Live", "alice", started=start, seconds=10.0, participants=[1], observations=[])
    assert next(x for x in Teaching(sessions, AGGREGATE).lessons(ALICE) if x.id == running).ended_at is None


def test_a_recording_the_database_fails_part_way_through_leaves_no_lesson_behind(sessions, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import services.recordings
    from services.recordings import Recordings

    inserts = []

    def fail_the_second_insert(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO observations"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise OperationalError(statement, None, Exception("disk I/O error"))

    monkeypatch.setattr(services.recordings, "CHUNK", 4)  # 10 observations: three INSERTs
    event.listen(sessions.kw["bind"], "before_cursor_execute", fail_the_second_insert)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    observations = [replace(make_observation(ts=start + timedelta(seconds=s)), track_id=1) for s in range(10)]
    try:
        with pytest.raises(LessonError, match="did not store the recording .disk I/O error.; nothing was kept"):
            Recordings(sessions).record("Recorded", "alice", started=start, seconds=10.0, participants=[1],
                                        observations=observations, new_lesson=True)
    finally:
        event.remove(sessions.kw["bind"], "before_cursor_execute", fail_the_second_insert)
    assert len(inserts) == 2  # the first chunk had been sent when the database failed
    assert Teaching(sessions, AGGREGATE).lessons(ALICE) == []
    assert Administration(sessions, AGGREGATE).lessons() == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ObservationRow)) == 0


def test_a_recording_with_observations_after_its_end_is_refused_whole(sessions) -> None:  # type: ignore[no-untyped-def]
    from services.recordings import Recordings

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    observations = [replace(make_observation(ts=start + timedelta(seconds=s)), track_id=1) for s in range(10)]
    with pytest.raises(LessonError, match="1 of 10 observations fall after the recording's end; nothing was kept"):
        Recordings(sessions).record("Recorded", "alice", started=start, seconds=8.5, participants=[1],
                                    observations=observations, new_lesson=True)
    assert Teaching(sessions, AGGREGATE).lessons(ALICE) == []


def test_an_ended_lesson_replays_its_summary_and_view_from_one_read(sessions) -> None:  # type: ignore[no-untyped-def]
    lesson_id, _people = class_of(sessions, AGGREGATE, students=3)
    teaching = Teaching(sessions, AGGREGATE)
    teaching.end(ALICE, lesson_id)
    lesson = teaching.lessons(ALICE)[0]
    figures, view = teaching.replay(lesson)
    alone = teaching.class_view(lesson, live=False)
    assert view.records == alone.records == 90 and view.joined == 3 and view.hidden == alone.hidden
    pd.testing.assert_frame_equal(view.mood, alone.mood)
    pd.testing.assert_frame_equal(view.attention, alone.attention)
    assert figures.window == "1min" and figures.summary.participants == 3 and figures.mean_attention["attentive"] == 1.0


def test_the_live_view_as_it_stood_earlier_holds_only_the_records_until_then(sessions) -> None:  # type: ignore[no-untyped-def]
    class_of(sessions, AGGREGATE, students=3)  # each student once a second for the last 30 s
    teaching = Teaching(sessions, AGGREGATE)
    lesson = teaching.lessons(ALICE)[0]
    now = teaching.class_view(lesson, live=True)
    earlier = teaching.class_view(lesson, live=True, as_of=datetime.now(UTC) - timedelta(seconds=20))
    assert now.records == 90 and 21 <= earlier.records <= 36  # the first 10-ish seconds of three students
    assert earlier.mood["window"].max() < now.mood["window"].max()
