"""Courses (class groups) and their trend: one row of class figures per lesson, under the privacy rule."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.class_figures import class_figures, shows_individuals
from db.schema import Course, aware
from engine.types import NEGATIVE_EMOTIONS

TREND_COLUMNS = ["lesson_id", "title", "started_at", "minutes", "students", "attentive", "positive", "negative",
                 "moments", "shown_minutes"]


@dataclass(frozen=True)
class CourseInfo:
    id: int
    name: str
    owner: str
    lessons: int


def list_courses(session: Session, owner: str | None = None) -> list[CourseInfo]:
    """Courses by name, optionally of one owner (a teacher's own; every course for an admin)."""
    query = select(Course).order_by(Course.name)
    if owner is not None:
        query = query.where(Course.owner == owner)
    return [CourseInfo(c.id, c.name, c.owner, len(c.lessons)) for c in session.scalars(query)]


def course_for(session: Session, course_id: int, username: str, is_admin: bool) -> Course:
    """The course if this user may see it; LookupError otherwise (the same whether missing or not theirs)."""
    course = session.get(Course, course_id)
    if course is None or not (is_admin or course.owner == username):
        raise LookupError("no such course")
    return course


def course_trend(session: Session, course: Course, *, min_group: int, deployment_mode: str,
                 emotion: bool = True) -> pd.DataFrame:
    """One row per started lesson of the course, oldest first: its length, students, and its class figures (shares
    over the minutes the privacy rule shows; None where it shows none)."""
    rows = []
    started = sorted(((_utc(x.started_at), x) for x in course.lessons if x.started_at is not None),
                     key=lambda pair: pair[0])
    for start, lesson in started:
        individuals = shows_individuals(lesson.privacy_mode, deployment_mode)
        figures = class_figures(session, lesson.id, min_group=min_group, individuals=individuals)
        mood, attention = figures.mean_mood, figures.mean_attention
        end = lesson.ended_at or figures.summary.last_observation
        rows.append({
            "lesson_id": lesson.id, "title": lesson.title, "started_at": start,
            "minutes": round((_utc(end) - start).total_seconds() / 60) if end else None,
            "students": figures.summary.participants, "attentive": attention.get("attentive"),
            "positive": mood.get("Happy") if emotion and mood else None,
            "negative": sum(mood[e] for e in NEGATIVE_EMOTIONS) if emotion and mood else None,
            "moments": len(figures.moments(emotion)),
            "shown_minutes": figures.windows - figures.hidden,
        })
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _utc(ts: datetime) -> pd.Timestamp:
    return pd.Timestamp(aware(ts)).tz_convert("UTC")
