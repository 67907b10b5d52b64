"""Process-wide resources, created once and shared by every viewer: settings, database, writer, models."""
from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.session import open_database
from db.writer import ObservationWriter
from engine.classifier import EmotionClassifier, load_classifier
from engine.registry import resolve_model
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    writer: ObservationWriter


@st.cache_resource
def get_settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def get_database(url: str) -> Database:
    """One engine, session factory and observation writer per database URL and process."""
    engine, sessions = open_database(url)
    writer = ObservationWriter(sessions)
    atexit.register(writer.close)  # on shutdown, write what is still queued
    return Database(engine, sessions, writer)


@st.cache_resource
def get_classifier(models_dir: str, model: str, runtime: str, threads: int) -> EmotionClassifier:
    """The emotion classifier, loaded once and shared by all streams (its inference is serialised)."""
    return load_classifier(resolve_model(Path(models_dir), model), runtime, threads)


def database() -> Database:
    return get_database(get_settings().resolved_database_url)


def classifier() -> EmotionClassifier | None:
    """The configured classifier, or None when the deployment runs without emotion inference."""
    s = get_settings()
    if not s.emotion_inference:
        return None
    return get_classifier(str(s.models_dir), s.model, s.runtime, s.inference_threads)
