"""Retention: every personal datum has its period, enforced by this command and at app start-up. Observations older
than N days go; so do lessons that ended (or, never ended, were created) more than N days ago, with their
participants' display names; and sign-in/join throttle rows (usernames, client addresses) unused for a day.

The command line is cli/retention.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from db.schema import LessonSession, ObservationRow, Participant
from db.staff_sessions import purge_ended
from db.throttle import purge_idle


def purge_older_than(session: Session, days: int, now: datetime | None = None) -> int:
    """Delete observations older than `days` days; returns how many. `days` <= 0 keeps everything."""
    if days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    result = session.execute(delete(ObservationRow).where(ObservationRow.ts < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Purged:
    """How many rows of each kind retention deleted."""

    observations: int
    lessons: int
    attempts: int

    def __str__(self) -> str:
        return f"{self.observations} observations, {self.lessons} lessons, {self.attempts} throttle rows"


def purge_personal_data(session: Session, days: int, now: datetime | None = None) -> Purged:
    """Apply every retention period; `days` <= 0 keeps observations and lessons (throttle rows and ended staff
    sessions still go)."""
    now = now or datetime.now(UTC)
    purge_ended(session, now)
    observations = purge_older_than(session, days, now)
    lessons = 0
    if days > 0:
        cutoff = now - timedelta(days=days)
        old = or_(LessonSession.ended_at < cutoff, and_(LessonSession.ended_at.is_(None), LessonSession.created_at < cutoff))
        ids = list(session.scalars(select(LessonSession.id).where(old)))
        if ids:
            observations += _count(session.execute(delete(ObservationRow).where(ObservationRow.session_id.in_(ids))))
            session.execute(delete(Participant).where(Participant.session_id.in_(ids)))
            lessons = _count(session.execute(delete(LessonSession).where(LessonSession.id.in_(ids))))
    return Purged(observations, lessons, purge_idle(session, now))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def delete_participant_data(session: Session, participant_id: int) -> int:
    """Remove one participant and all their observations; returns the observations deleted."""
    result = session.execute(delete(ObservationRow).where(ObservationRow.participant_id == participant_id))
    session.execute(delete(Participant).where(Participant.id == participant_id))
    return int(getattr(result, "rowcount", 0) or 0)
