"""Recorded lessons sent from the app: a queue per process, analysed one at a time on a background thread.

A teacher uploads a recording; it is checked at once (a readable video, a title), queued, then read from memory,
analysed at the rate asked for (engine.analysis, as `python -m cli.analyze` does) and recorded as a new lesson of
that teacher (services.recordings). The upload is held in memory only until its analysis ends, and never written to
disk. Live streams come first: the thread runs at a lower priority, and one recording is analysed at a time.
"""
from __future__ import annotations

import io
import itertools
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from db.lessons import LessonError
from engine.analysis import RecordingOptions, analyse_video
from engine.attention import AttentionEstimator
from engine.classifier import EmotionClassifier
from engine.detectors import FaceDetector
from engine.media import MediaError
from engine.threads import lower_priority
from engine.video import VideoInfo, VideoReader
from services.policy import Policy
from services.recordings import Recordings

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


@dataclass(frozen=True)
class Analysers:
    """What a recording is analysed with (the classifier None when emotions are not inferred)."""

    detector: FaceDetector
    classifier: EmotionClassifier | None
    attention: AttentionEstimator | None


@dataclass(frozen=True)
class RecordingRequest:
    """Where a recording goes: a new lesson `title` of `owner` that began at `started`."""

    owner: str
    title: str
    file_name: str
    started: datetime
    course: str | None = None
    privacy_mode: str = "aggregate"
    small_faces: bool = False  # a classroom camera: scan for faces down to about 40 px on 1080p (slower)


@dataclass(frozen=True)
class JobStatus:
    """One recording's progress as a page shows it."""

    id: int
    request: RecordingRequest
    state: str  # queued, running, done, failed or cancelled
    ahead: int  # recordings still to be analysed before this one (when queued)
    video: VideoInfo
    done_s: float  # seconds of the recording analysed so far
    running_s: float  # seconds since its analysis began (0 while queued)
    lesson_id: int | None = None
    participants: int = 0
    observations: int = 0
    error: str | None = None

    @property
    def fraction(self) -> float:
        if self.state == DONE:
            return 1.0
        return min(self.done_s / self.video.seconds, 1.0) if self.video.seconds > 0 else 0.0

    @property
    def realtime_factor(self) -> float | None:
        """Seconds of recording analysed per second of work."""
        return self.done_s / self.running_s if self.running_s > 1 and self.done_s > 0 else None

    @property
    def eta_s(self) -> float | None:
        speed = self.realtime_factor
        return max(self.video.seconds - self.done_s, 0.0) / speed if speed and self.video.seconds else None


class Cancelled(Exception):
    pass


class _Job:
    def __init__(self, job_id: int, request: RecordingRequest, data: bytes, info: VideoInfo) -> None:
        self.id, self.request, self.info = job_id, request, info
        self.data: bytes | None = data
        self.state = QUEUED
        self.done_s = 0.0
        self.began: float | None = None
        self.ended: float | None = None
        self.cancel = threading.Event()
        self.lesson_id: int | None = None
        self.participants = self.observations = 0
        self.error: str | None = None


class RecordingJobs:
    """The process's queue of uploaded recordings. `max_waiting` recordings may wait or run at once (each is held
    in memory until analysed); the last `keep` finished ones stay listed."""

    def __init__(self, recordings: Recordings, analysers: Analysers, policy: Policy, *, rate: float = 1.0,
                 nice: int = 0, max_waiting: int = 4, keep: int = 50) -> None:
        self.recordings, self.analysers, self.policy = recordings, analysers, policy
        self.options = RecordingOptions(rate=rate)
        self.nice, self.max_waiting, self.keep = nice, max_waiting, keep
        self._jobs: list[_Job] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def probe(data: bytes | BinaryIO, file_name: str) -> VideoInfo:
        """What the recording's container says (length, size, when it was made), or MediaError if it is no video
        this app can read. A file object is read from its start and left there."""
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        source.seek(0)
        try:
            if not source.read(1):
                raise MediaError(f"{file_name}: the file is empty")
            source.seek(0)
            with VideoReader(source, file_name) as reader:
                return reader.info
        finally:
            source.seek(0)

    def submit(self, request: RecordingRequest, data: bytes) -> int:
        """Queue a recording; its job id. Refused at once, with nothing queued: no title (LessonError), not a
        readable video (MediaError), or the queue full (LessonError)."""
        if not request.title.strip():
            raise LessonError("a lesson needs a title")
        info = self.probe(data, request.file_name)
        if request.privacy_mode == "per-student" and not self.policy.per_student_lessons:
            request = replace(request, privacy_mode="aggregate")
        with self._changed:
            if self._closed:
                raise LessonError("the server is shutting down; send the recording again in a minute")
            waiting = sum(1 for j in self._jobs if j.state in (QUEUED, RUNNING))
            if waiting >= self.max_waiting:
                raise LessonError(f"{waiting} recordings are being analysed on this server already; "
                                  "send this one again when one of them is done")
            job = _Job(next(self._ids), replace(request, title=request.title.strip()), data, info)
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="recordings", daemon=True)
                self._thread.start()
            self._changed.notify_all()
        log.info("recording %s (%s, %.0f s) queued as job %d for %s", request.file_name, request.title,
                 info.seconds, job.id, request.owner)
        return job.id

    def cancel(self, job_id: int, owner: str | None = None) -> bool:
        """Stop a queued or running recording of `owner` (any owner's when None); whether one was stopped."""
        with self._changed:
            for job in self._jobs:
                if job.id == job_id and (owner is None or job.request.owner == owner) and job.state in (QUEUED, RUNNING):
                    job.cancel.set()
                    if job.state == QUEUED:
                        self._finish(job, CANCELLED)
                    return True
        return False

    def status(self, owner: str | None = None) -> list[JobStatus]:
        """The recordings of `owner` (every owner's when None), newest first."""
        now = time.monotonic()
        with self._changed:
            waiting = [j for j in self._jobs if j.state in (QUEUED, RUNNING)]
            shown = [j for j in self._jobs if owner is None or j.request.owner == owner]
            return [JobStatus(j.id, j.request, j.state, waiting.index(j) if j.state == QUEUED else 0, j.info, j.done_s,
                              ((j.ended or now) - j.began) if j.began is not None else 0.0, j.lesson_id,
                              j.participants, j.observations, j.error)
                    for j in reversed(shown)]

    def wait(self, job_id: int, timeout: float) -> JobStatus:
        """The job's status once it has finished, or as it stands after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                job = next(j for j in self._jobs if j.id == job_id)
                left = deadline - time.monotonic()
                if job.state in (DONE, FAILED, CANCELLED) or left <= 0:
                    break
                self._changed.wait(left)
        return next(s for s in self.status() if s.id == job_id)

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking recordings, cancel what waits or runs, and let the thread end."""
        with self._changed:
            self._closed = True
            for job in self._jobs:
                job.cancel.set()
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:  # called holding the lock
        job.state, job.error, job.ended, job.data = state, error, time.monotonic(), None
        finished = [j for j in self._jobs if j.state in (DONE, FAILED, CANCELLED)]
        for old in finished[:-self.keep] if self.keep else finished:
            self._jobs.remove(old)
        self._changed.notify_all()

    def _next(self) -> _Job | None:
        with self._changed:
            while not self._closed:
                job = next((j for j in self._jobs if j.state == QUEUED), None)
                if job is not None:
                    job.state, job.began = RUNNING, time.monotonic()
                    return job
                self._changed.wait()
        return None

    def _work(self) -> None:
        lower_priority(self.nice)  # live streams first; the decoder's threads inherit this
        while (job := self._next()) is not None:
            try:
                self._run(job)
            except Cancelled:
                with self._changed:
                    self._finish(job, CANCELLED)
            except (MediaError, LessonError) as exc:
                with self._changed:
                    self._finish(job, FAILED, str(exc))
            except Exception as exc:  # reported on the page; the queue goes on with the next recording
                log.exception("recording job %d (%s) failed", job.id, job.request.file_name)
                with self._changed:
                    self._finish(job, FAILED, f"the analysis stopped unexpectedly ({type(exc).__name__}: {exc})")

    def _run(self, job: _Job) -> None:
        request, parts = job.request, self.analysers
        assert job.data is not None

        def progress(seconds: float) -> None:
            job.done_s = seconds
            if job.cancel.is_set():
                raise Cancelled

        with VideoReader(io.BytesIO(job.data), request.file_name) as reader:
            options = self.options.small_faces() if request.small_faces else self.options
            result = analyse_video(reader, parts.detector, parts.classifier, options=options,
                                   started=request.started, attention=parts.attention, on_frame=progress)
        if job.cancel.is_set():
            raise Cancelled
        if not result.observations:
            raise MediaError(f"{request.file_name}: no face was found in the recording, so there is nothing to record")
        lesson_id = self.recordings.record(
            request.title, request.owner, started=request.started, seconds=max(job.info.seconds, result.seconds),
            participants=result.participants, observations=result.observations, new_lesson=True,
            course=request.course, privacy_mode=request.privacy_mode)
        with self._changed:
            job.lesson_id, job.participants, job.observations = lesson_id, len(result.participants), len(result.observations)
            job.done_s = job.info.seconds or result.seconds
            self._finish(job, DONE)
        log.info("recording job %d: %d participants, %d observations into lesson %d", job.id, job.participants,
                 job.observations, lesson_id)
