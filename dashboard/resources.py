"""Process-wide resources, created once and shared by every viewer: settings, database, writer, models."""
from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashboard.streaming import tune_webrtc
from db.startup import prepare_database
from db.stream_ends import StreamEnds
from db.writer import ObservationWriter
from engine.attention import FaceMesh
from engine.card import read_card
from engine.classifier import EmotionClassifier, KerasClassifier, load_classifier
from engine.detectors import make_detector, wide_frame_detector
from engine.gradcam import GradCam
from engine.inference import AnalysisWorker
from engine.registry import resolve_model
from engine.scanning import ScanWorker
from services.administration import Administration
from services.joining import Joining
from services.policy import Policy
from services.recording_jobs import Analysers, RecordingJobs
from services.recordings import Recordings
from services.staff import Staff
from services.teaching import Teaching
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    writer: ObservationWriter


@st.cache_resource
def get_settings() -> Settings:
    settings = Settings.from_env()
    settings.tune_process()  # once per process: GIL switch interval and OpenCV's pool for many streams
    tune_webrtc(settings)
    return settings


@st.cache_resource
def get_database(url: str) -> Database:
    """One engine, session factory and observation writer per database URL and process."""
    s = get_settings()
    engine, sessions = prepare_database(url, s.admin_username, s.admin_password, s.retention_days)
    writer = ObservationWriter(sessions)
    atexit.register(writer.close)  # on shutdown, write what is still queued
    return Database(engine, sessions, writer)


@st.cache_resource
def get_classifier(models_dir: str, model: str, runtime: str, threads: int) -> EmotionClassifier:
    """The emotion classifier, loaded once and shared by all streams (its inference is serialised)."""
    return load_classifier(resolve_model(Path(models_dir), model), runtime, threads)


@st.cache_resource
def get_explainer(models_dir: str, model: str) -> tuple[EmotionClassifier, GradCam] | None:
    """The Keras form of the model and its Grad-CAM, or None when the model ships no Keras weights."""
    folder = resolve_model(Path(models_dir), model)
    keras_clf = load_classifier(folder, "keras") if "keras" in read_card(folder).files else None
    return (keras_clf, GradCam(keras_clf.model)) if isinstance(keras_clf, KerasClassifier) else None


def explainer() -> tuple[EmotionClassifier, GradCam] | None:
    s = get_settings()
    return get_explainer(str(s.models_dir), s.model) if s.emotion_inference else None


@st.cache_resource
def get_facemesh(path: str) -> FaceMesh | None:
    """The landmark model for attention signals, shared by all streams (its inference is serialised)."""
    return FaceMesh(Path(path)) if Path(path).exists() else None


def facemesh() -> FaceMesh | None:
    s = get_settings()
    return get_facemesh(str(s.facemesh_path)) if s.attention else None


def database() -> Database:
    return get_database(get_settings().resolved_database_url)


@st.cache_resource
def get_stream_ends(url: str) -> StreamEnds:
    """Which students' streams must end (their lesson ended, their records were erased), for every stream of the
    process (one small query twice a second, on a thread of its own): a student's page says so within seconds."""
    ends = StreamEnds(get_database(url).sessions, interval=0.5)
    atexit.register(ends.close)
    return ends


def stream_ends() -> StreamEnds:
    return get_stream_ends(get_settings().resolved_database_url)


def classifier() -> EmotionClassifier | None:
    """The configured classifier, or None when the deployment runs without emotion inference."""
    s = get_settings()
    if not s.emotion_inference:
        return None
    return get_classifier(str(s.models_dir), s.model, s.runtime, s.inference_threads)


@st.cache_resource
def get_analysis_worker(models_dir: str, model: str, runtime: str, threads: int, facemesh_path: str,
                        emotion: bool, attention: bool, nice: int) -> AnalysisWorker:
    """The one thread that analyses every stream's due faces (batched across streams)."""
    clf = get_classifier(models_dir, model, runtime, threads) if emotion else None
    mesh = get_facemesh(facemesh_path) if attention else None
    worker = AnalysisWorker(clf, mesh, nice=nice)
    atexit.register(worker.close)
    return worker


@st.cache_resource
def get_scan_worker(detector: str, nice: int) -> ScanWorker:
    """The one thread that runs every stream's full-frame face scans (with its own detector)."""
    worker = ScanWorker(make_detector(detector), nice=nice)
    atexit.register(worker.close)
    return worker


def scan_worker() -> ScanWorker | None:
    """The shared scan worker, or None when streams scan inline (Tuning.background_scans off)."""
    s = get_settings()
    return get_scan_worker(s.detector, s.tuning.background_nice) if s.tuning.background_scans else None


def analysis_worker() -> AnalysisWorker:
    s = get_settings()
    return get_analysis_worker(str(s.models_dir), s.model, s.runtime, s.inference_threads, str(s.facemesh_path),
                               s.emotion_inference, s.attention, s.tuning.background_nice)


def policy() -> Policy:
    """The deployment's privacy rules, for the services."""
    s = get_settings()
    return Policy(s.privacy_mode, s.min_group_size, s.emotion_inference)


def teaching() -> Teaching:
    return Teaching(database().sessions, policy())


def joining() -> Joining:
    return Joining(database().sessions, policy())


@st.cache_resource
def get_recording_jobs(url: str) -> RecordingJobs:
    """The process's queue of uploaded recordings, analysed one at a time below the streams' priority, with models
    of its own: the streams' shared models serialise their calls with a lock, which a low-priority thread holding it
    while descheduled would make the live analysis wait for."""
    s = get_settings()
    model = load_classifier(resolve_model(s.models_dir, s.model), s.runtime, s.inference_threads) \
        if s.emotion_inference else None
    mesh = FaceMesh(s.facemesh_path) if s.attention and s.facemesh_path.exists() else None
    analysers = Analysers(wide_frame_detector(s.detector), model, mesh)
    jobs = RecordingJobs(Recordings(get_database(url).sessions), analysers, policy(), rate=1.0 / s.analysis_interval,
                         nice=s.tuning.background_nice + 5)
    atexit.register(jobs.close)
    return jobs


def recording_jobs() -> RecordingJobs:
    return get_recording_jobs(get_settings().resolved_database_url)


def administration() -> Administration:
    return Administration(database().sessions, policy())


def staff() -> Staff:
    return Staff(database().sessions)
