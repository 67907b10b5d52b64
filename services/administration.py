"""Administrators' work: accounts, every lesson, exports that keep the privacy rule, and deletion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import Account, create_user, list_accounts, set_disabled, set_password
from db.class_figures import ClassFigures, class_figures
from db.lessons import delete_lesson_data, list_lessons
from db.queries import SessionSummary, session_summary
from db.reports import minutes_export, observations_export, pseudonyms
from db.retention import delete_participant_data
from db.schema import LessonSession
from db.staff_sessions import revoke_all
from db.writer import AllWriters, all_writers
from services.policy import Policy


@dataclass(frozen=True)
class LessonExports:
    """What may leave the database for one lesson: its class figures (the report), the per-minute table, and the
    per-observation table only for a lesson whose figures may show individuals."""

    figures: ClassFigures
    minutes: pd.DataFrame
    observations: pd.DataFrame | None


class Administration:
    def __init__(self, sessions: sessionmaker[Session], policy: Policy) -> None:
        self.sessions, self.policy = sessions, policy

    def writers(self) -> AllWriters:
        with self.sessions() as s:
            return all_writers(s)

    def accounts(self) -> list[Account]:
        with self.sessions() as s:
            return list_accounts(s)

    def create_account(self, username: str, password: str, role: str) -> Account:
        """Raises AccountError (a bad name or password, or a name taken)."""
        with self.sessions.begin() as s:
            return create_user(s, username, password, role)

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> int:
        """Disable or enable an account; disabling signs it out everywhere. Returns the browsers signed out."""
        with self.sessions.begin() as s:
            set_disabled(s, username, disabled, by=by)
            return revoke_all(s, username) if disabled else 0

    def set_password(self, username: str, password: str, *, by: str) -> int:
        """Give another account a new password (they forgot theirs), signing it out everywhere. Returns the browsers
        signed out; raises AccountError (no such account, a short password, or `by`'s own)."""
        with self.sessions.begin() as s:
            set_password(s, username, password, by=by)
            return revoke_all(s, username.strip().lower())

    def lessons(self) -> list[tuple[LessonSession, SessionSummary]]:
        with self.sessions() as s:
            return [(lesson, session_summary(s, lesson.id)) for lesson in list_lessons(s)]

    def exports(self, lesson: LessonSession, zone: tzinfo) -> LessonExports:
        individuals = self.policy.individuals(lesson.privacy_mode)
        with self.sessions() as s:
            figures = class_figures(s, lesson.id, min_group=self.policy.min_group, individuals=individuals)
            observations = observations_export(s, lesson.id, zone) if individuals else None
        return LessonExports(figures, minutes_export(figures, zone), observations)

    def pseudonyms(self, lesson_id: int) -> dict[int, str]:
        with self.sessions() as s:
            return pseudonyms(s, lesson_id)

    def delete_participant(self, participant_id: int) -> int:
        """One participant and their observations, for good; returns the observations deleted."""
        with self.sessions.begin() as s:
            return delete_participant_data(s, participant_id)

    def delete_lesson(self, lesson_id: int) -> int:
        """A lesson, its participants and observations, for good; returns the observations deleted."""
        with self.sessions.begin() as s:
            return delete_lesson_data(s, lesson_id)
