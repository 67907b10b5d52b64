"""Recordings sent from the app: checked at once, queued, analysed on a background thread into a new lesson."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from benchmarks.galleries import GallerySpec, write_gallery
from db.accounts import Account
from db.lessons import LessonError
from db.schema import LessonSession, ObservationRow, aware
from engine.media import MediaError
from engine.types import Face
from services.policy import Policy
from services.recording_jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Analysers, RecordingJobs, RecordingRequest
from services.recordings import Recordings
from services.teaching import Teaching
from tests.conftest import REPO

RATE = 1.0
SPEC = GallerySpec("upload", 2, 2, 20.0, width=1280, height=720, fps=15, turn_every=6.0)  # three turns aside each
BEGAN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = Account("alice", "teacher")


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_gallery(tmp_path_factory.mktemp("upload") / "call.mp4", SPEC).read_bytes()


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    from db.session import open_database

    engine, sessions = open_database(f"sqlite:///{tmp_path / 'school.db'}")
    yield sessions
    engine.dispose()


def request(title: str = "Monday's call", **kw: object) -> RecordingRequest:
    fields: dict[str, object] = {"owner": "alice", "title": title, "file_name": "call.mp4", "started": BEGAN} | kw
    return RecordingRequest(**fields)  # type: ignore[arg-type]


class HeldDetector:
    """Finds no face, and holds every scan until released: a recording that is still being analysed."""

    name = "held"
    near_face_px = 28

    def __init__(self) -> None:
        self.release = threading.Event()
        self.scanning = threading.Event()
        self.widths: set[int] = set()  # of the copies scanned

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
        self.widths.add(image.shape[1])
        self.scanning.set()
        self.release.wait(30)
        return []


def held_jobs(sessions, **kw: object) -> tuple[RecordingJobs, HeldDetector]:  # type: ignore[no-untyped-def]
    detector = HeldDetector()
    return RecordingJobs(Recordings(sessions), Analysers(detector, None, None), Policy(), **kw), detector  # type: ignore[arg-type]


def test_an_uploaded_recording_becomes_an_ended_lesson_of_its_teacher_with_one_participant_per_person(
        sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    from engine.attention import FaceMesh
    from engine.classifier import load_classifier
    from engine.detectors import make_detector
    from engine.registry import resolve_model

    parts = Analysers(make_detector("haar"), load_classifier(resolve_model(REPO / "models", None), "tflite", 1),
                      FaceMesh(REPO / "models" / "facemesh" / "face_landmark.tflite"))
    jobs = RecordingJobs(Recordings(sessions), parts, Policy("per-student"), rate=RATE)
    try:
        job_id = jobs.submit(request(course="9B maths", privacy_mode="per-student"), gallery)
        status = jobs.wait(job_id, timeout=120)
    finally:
        jobs.close()
    assert (status.state, status.error) == (DONE, None)
    assert status.participants == SPEC.faces and status.fraction == 1.0
    assert abs(status.observations - SPEC.faces * SPEC.seconds * RATE) <= 0.1 * SPEC.faces * SPEC.seconds * RATE
    assert status.video.seconds == pytest.approx(SPEC.seconds, abs=0.1) and status.video.width == SPEC.width
    (lesson,) = Teaching(sessions, Policy("per-student")).lessons(ALICE)
    assert (lesson.id, lesson.title, lesson.owner, lesson.privacy_mode) == (status.lesson_id, "Monday's call", "alice",
                                                                             "per-student")
    ended = BEGAN + timedelta(seconds=status.video.seconds)
    assert aware(lesson.started_at) == BEGAN and lesson.ended_at is not None and aware(lesson.ended_at) == ended
    with sessions() as s:
        stored = s.query(ObservationRow).filter_by(session_id=lesson.id).all()
        assert len(stored) == status.observations
        assert all(BEGAN <= aware(row.ts) <= ended for row in stored)
        assert all(row.extras and row.label for row in stored)  # attention signals and the emotion estimate
        assert s.get(LessonSession, lesson.id).course.name == "9B maths"


def test_bad_uploads_are_refused_at_once_and_nothing_is_queued(sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = held_jobs(sessions)
    with pytest.raises(MediaError, match="empty"):
        jobs.submit(request(), b"")
    with pytest.raises(MediaError, match="call.mp4: not a video this app can read"):
        jobs.submit(request(), b"\x00" * 4096)
    with pytest.raises(MediaError, match="call.mp4: not a video this app can read"):
        jobs.submit(request(), gallery[: len(gallery) // 50])  # the start of a file whose upload broke off
    with pytest.raises(LessonError, match="needs a title"):
        jobs.submit(request(title="  "), gallery)
    assert jobs.status() == []


def test_recordings_wait_their_turn_and_a_full_queue_refuses_more(sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    jobs, detector = held_jobs(sessions, max_waiting=2)
    try:
        first = jobs.submit(request("First"), gallery)
        second = jobs.submit(request("Second", owner="bob"), gallery)
        assert detector.scanning.wait(30)
        states = {s.id: (s.state, s.ahead) for s in jobs.status()}
        assert states == {first: (RUNNING, 0), second: (QUEUED, 1)}
        assert [s.id for s in jobs.status("bob")] == [second]  # a teacher sees their own recordings only
        with pytest.raises(LessonError, match="2 recordings are being analysed"):
            jobs.submit(request("Third"), gallery)
        detector.release.set()
        done = [jobs.wait(first, 60), jobs.wait(second, 60)]
    finally:
        jobs.close()
    # the held detector finds nobody: each recording is reported, and no empty lesson is made
    assert [(s.state, s.error) for s in done] == [(FAILED, "call.mp4: no face was found in the recording, so there "
                                                           "is nothing to record")] * 2
    assert Teaching(sessions, Policy()).lessons(ALICE) == []


def test_a_cancelled_recording_stops_and_records_nothing(sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    jobs, detector = held_jobs(sessions)
    try:
        running = jobs.submit(request("Running"), gallery)
        waiting = jobs.submit(request("Waiting"), gallery)
        assert detector.scanning.wait(30)
        assert not jobs.cancel(running, owner="bob")  # not bob's
        assert jobs.cancel(waiting, owner="alice") and jobs.cancel(running, owner="alice")
        detector.release.set()
        states = [jobs.wait(running, 60).state, jobs.wait(waiting, 1).state]
    finally:
        jobs.close()
    assert states == [CANCELLED, CANCELLED]
    assert Teaching(sessions, Policy()).lessons(ALICE) == []


def test_a_classroom_camera_is_scanned_for_small_faces(sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    widths = []
    for small_faces in (False, True):
        jobs, detector = held_jobs(sessions)
        detector.release.set()
        try:
            jobs.wait(jobs.submit(request(small_faces=small_faces), gallery), timeout=60)
        finally:
            jobs.close()
        widths.append(detector.widths)
    assert widths == [{640}, {SPEC.width}]  # the 1280-px recording scanned on a 640-px copy, or whole


def test_per_student_recordings_need_a_deployment_that_allows_them(sessions, gallery: bytes) -> None:  # type: ignore[no-untyped-def]
    jobs, detector = held_jobs(sessions)
    try:
        job_id = jobs.submit(request(privacy_mode="per-student"), gallery)
        (status,) = jobs.status()
    finally:
        detector.release.set()
        jobs.close()
    assert status.id == job_id and status.request.privacy_mode == "aggregate"


def test_progress_gives_the_real_time_factor_and_time_left() -> None:
    from engine.video import VideoInfo
    from services.recording_jobs import JobStatus

    status = JobStatus(1, request(), RUNNING, 0, VideoInfo(30.0, 2700, 90.0, 640, 360), done_s=30.0, running_s=10.0)
    assert (status.fraction, status.realtime_factor, status.eta_s) == (pytest.approx(1 / 3), 3.0, 20.0)
    assert JobStatus(1, request(), QUEUED, 2, VideoInfo(30.0, 2700, 90.0, 640, 360), 0.0, 0.0).eta_s is None
