"""Teachers' lesson operations and what they may see of their classes, live and afterwards."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import Account
from db.alerts import Alert, attention_needed, hide_small_groups
from db.class_figures import ClassFigures, class_figures
from db.courses import CourseInfo, course_for, course_trend, list_courses
from db.lessons import (
    create_lesson,
    end_lesson,
    lesson_for,
    now,
    optional_course,
    participant_names,
    start_lesson,
    visible_lessons,
)
from db.queries import attention_shares, emotion_shares, observations_frame
from db.schema import LessonSession
from services.policy import Policy

LIVE_MINUTES = 10  # the rolling window of the live view
WINDOW = "10s"
STREAMING_S = 15  # a student with a record this recent is streaming now


@dataclass(frozen=True)
class ClassView:
    """What a teacher may see of a lesson, live (the last LIVE_MINUTES) or replayed, the privacy rule applied:
    mood and attention only for windows with `min_group` students unless individuals are shown, and per-student
    records only then."""

    individuals: bool
    min_group: int
    joined: int  # participants of the lesson
    streaming: int  # students with a record in the last STREAMING_S seconds of the data
    records: int
    mood: pd.DataFrame  # emotion shares of the windows shown
    attention: pd.DataFrame  # attention shares of the windows shown
    measured_attention: bool  # whether any record carries attention signals (shown or not)
    people: pd.DataFrame  # students per window (window, participants): counts only, every window
    hidden: int  # windows withheld
    current_hidden: bool  # the newest window is withheld: no older one may stand in for it
    alerts: list[Alert]
    timeline: pd.DataFrame | None  # per-student records, only when individuals are shown
    names: dict[int, str] | None  # participant id -> display name, only when individuals are shown


class Teaching:
    def __init__(self, sessions: sessionmaker[Session], policy: Policy) -> None:
        self.sessions, self.policy = sessions, policy

    def course_names(self, account: Account) -> list[str]:
        with self.sessions() as s:
            return [c.name for c in list_courses(s, account.username)]

    def create(self, account: Account, title: str, *, course: str | None, privacy_mode: str, start: bool) -> int:
        """A new lesson owned by `account`; raises LessonError (no title). A per-student lesson needs a deployment
        that allows it."""
        if privacy_mode == "per-student" and not self.policy.per_student_lessons:
            privacy_mode = "aggregate"
        with self.sessions.begin() as s:
            return create_lesson(s, title, owner=account.username, privacy_mode=privacy_mode, start=start,
                                 course=optional_course(s, course, account.username)).id

    def lessons(self, account: Account) -> list[LessonSession]:
        """The lessons the account may see (its own; every lesson for admins), newest first."""
        with self.sessions() as s:
            return visible_lessons(s, account.username, account.is_admin)

    def start(self, account: Account, lesson_id: int) -> None:
        with self.sessions.begin() as s:
            start_lesson(s, lesson_for(s, lesson_id, account.username, account.is_admin))

    def end(self, account: Account, lesson_id: int) -> None:
        with self.sessions.begin() as s:
            end_lesson(s, lesson_for(s, lesson_id, account.username, account.is_admin))

    def class_view(self, lesson: LessonSession, *, live: bool, as_of: datetime | None = None) -> ClassView:
        """The view now, or as it stood at `as_of` (the live view replayed: only records up to then)."""
        moment = as_of or now()
        with self.sessions() as s:
            frame = observations_frame(s, lesson.id, since=moment - timedelta(minutes=LIVE_MINUTES) if live else None,
                                       until=as_of)
            names = participant_names(s, lesson.id)
        return self._view(lesson, frame, names)

    def replay(self, lesson: LessonSession) -> tuple[ClassFigures, ClassView]:
        """An ended lesson's class figures (per-minute windows) and its whole-lesson view (10-s windows), the privacy
        rule applied to both, from one read of its records."""
        with self.sessions() as s:
            frame = observations_frame(s, lesson.id)
            names = participant_names(s, lesson.id)
            figures = class_figures(s, lesson.id, min_group=self.policy.min_group,
                                    individuals=self.policy.individuals(lesson.privacy_mode), frame=frame)
        return figures, self._view(lesson, frame, names)

    def _view(self, lesson: LessonSession, frame: pd.DataFrame, names: dict[int, str]) -> ClassView:
        individuals = self.policy.individuals(lesson.privacy_mode)
        shares, attention = emotion_shares(frame, WINDOW), attention_shares(frame, WINDOW)
        min_group = self.policy.min_group
        mood = shares if individuals else hide_small_groups(shares, min_group)
        shown_attention = attention if individuals else hide_small_groups(attention, min_group)
        recent = frame[frame["ts"] >= frame["ts"].max() - timedelta(seconds=STREAMING_S)] if len(frame) else frame
        counted = shares if not shares.empty else attention
        return ClassView(
            individuals=individuals, min_group=min_group, joined=len(names),
            streaming=int(recent["participant_id"].nunique()) if len(recent) else 0, records=len(frame),
            mood=mood, attention=shown_attention, measured_attention=not attention.empty,
            people=counted[["window", "participants"]] if "participants" in counted else counted,
            hidden=len(shares) - len(mood),
            current_hidden=len(shares) > 0 and (mood.empty or mood["window"].max() < shares["window"].max()),
            alerts=attention_needed(mood, expected_students=len(names), attention=shown_attention),
            timeline=frame if individuals else None, names=names if individuals else None)

    def courses(self, account: Account) -> list[CourseInfo]:
        with self.sessions() as s:
            return list_courses(s, None if account.is_admin else account.username)

    def course_trend(self, account: Account, course_id: int) -> pd.DataFrame:
        """One row of class figures per lesson of a course the account may see (LookupError otherwise)."""
        with self.sessions() as s:
            course = course_for(s, course_id, account.username, account.is_admin)
            return course_trend(s, course, min_group=self.policy.min_group, deployment_mode=self.policy.deployment_mode,
                                emotion=self.policy.emotion)
