"""The records: courses, lesson sessions, pseudonymous participants and per-face observations."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from engine.types import EMOTIONS


def aware(ts: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite returns naive UTC times, PostgreSQL aware ones)."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# One column per FER2013 class, in label order; None where emotion inference is off.
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{label.lower()}" for label in EMOTIONS)


class Base(DeclarativeBase):
    pass


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lessons: Mapped[list[LessonSession]] = relationship(back_populates="course")


class LessonSession(Base):
    __tablename__ = "lesson_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[str] = mapped_column(String(120), default="")
    privacy_mode: Mapped[str] = mapped_column(String(32), default="aggregate")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    course: Mapped[Course | None] = relationship(back_populates="lessons")
    participants: Mapped[list[Participant]] = relationship(back_populates="lesson", cascade="all, delete-orphan")


class Participant(Base):
    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lesson_sessions.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(32))  # random id used in exports, never the display name
    display_name: Mapped[str] = mapped_column(String(80))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lesson: Mapped[LessonSession] = relationship(back_populates="participants")


class ObservationRow(Base):
    __tablename__ = "observations"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lesson_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    track_id: Mapped[int] = mapped_column(Integer)
    p_angry: Mapped[float | None] = mapped_column(Float)
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    model_name: Mapped[str] = mapped_column(String(80))
    extras: Mapped[str | None] = mapped_column(Text)  # JSON of attention signals, when recorded

    __table_args__ = (
        Index("ix_observations_session_ts", "session_id", "ts"),
        Index("ix_observations_participant_ts", "participant_id", "ts"),
    )


class User(Base):
    """A teacher or admin account; students have none (the join code is enough)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "teacher" or "admin"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # set: no sign-in, sessions end


class Attempt(Base):
    """Failed login or join attempts per key, so that guessing is slowed down on every app server."""

    __tablename__ = "attempts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WriterCounters(Base):
    """Each app process's observation writer, its counts so far (it updates its row every few seconds), so that the
    admin page shows figures for every instance, not only the one that serves it."""

    __tablename__ = "writer_counters"
    instance: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid:start
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)


class StaffSession(Base):
    """A signed-in browser: the SHA-256 of the random token in its cookie (never the token itself), its account,
    and when it expires or was revoked (sign-out, password change, account disabled)."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
