"""One run: N simulated students in this process on the app's own path (its frame callback, shared workers and
the real observation writer on a fresh SQLite file), measured after a warm-up."""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import aiortc  # noqa: F401  (before anything imports TensorFlow: pylibsrtp after TF segfaults)
from aiortc.contrib.media import MediaRelay

from benchmarks.capacity.judging import CLOCK_TICKS, Trial, judge, machine_ticks, thread_counters, thread_report
from benchmarks.capacity.media import EventLoopThread, WebrtcStream, encoded_clip
from dashboard.streaming import frame_callback, make_processor
from db.lessons import add_participant, create_lesson
from db.session import open_database
from db.writer import ObservationWriter
from engine.attention import FaceMesh
from engine.classifier import EmotionClassifier, load_classifier
from engine.detectors import make_detector
from engine.inference import AnalysisWorker
from engine.registry import resolve_model
from engine.scanning import ScanWorker
from settings import Settings

log = logging.getLogger(__name__)


def run_trial(n: int, settings: Settings, classifier: EmotionClassifier | None, mesh: FaceMesh | None,
              packets: list[bytes], seconds: float, warmup: float, p95_limit: float, shared_worker: bool = True) -> Trial:
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = open_database(f"sqlite:///{Path(tmp) / 'capacity.db'}")
        with sessions.begin() as s:
            lesson = create_lesson(s, "capacity benchmark")
            pids = [add_participant(s, lesson, f"student {i}", consent=True).id for i in range(n)]
            lesson_id = lesson.id
        writer = ObservationWriter(sessions)
        worker = AnalysisWorker(classifier, mesh, nice=settings.tuning.background_nice) if shared_worker else None
        tuning = settings.tuning
        scanner = ScanWorker(make_detector(settings.detector), nice=tuning.background_nice) if tuning.background_scans else None
        wall_offset = time.time() - time.monotonic()
        stop = threading.Event()
        loop, relay = EventLoopThread(), MediaRelay()
        streams: list[WebrtcStream] = []
        for i, pid in enumerate(pids):
            processor = make_processor(settings, classifier, writer, lesson_id, pid, mesh, worker, scanner)
            slog_analyses: list[tuple[float, int]] = []
            inner_sink = processor.sink

            def sink(obs, inner=inner_sink, times=slog_analyses):  # type: ignore[no-untyped-def]
                times.append((obs.timestamp.timestamp() - wall_offset, obs.track_id))  # frame time, monotonic clock
                return inner(obs) if inner else None

            processor.sink = sink
            stream = WebrtcStream(i, packets, settings.video_fps, frame_callback(processor), stop, loop.loop, relay,
                                  settings.tuning.async_processing)
            stream.log.analyses = slog_analyses
            streams.append(stream)
        t0 = time.monotonic() + 0.2
        for stream in streams:  # students join at different moments, not phase-locked: starts spread over a second
            stream.phase = stream.index / n
            stream.start(t0)
        time.sleep(max(t0 + warmup - time.monotonic(), 0))
        cpu0, wall0, threads0, machine0 = time.process_time(), time.monotonic(), thread_counters(), machine_ticks()
        time.sleep(seconds)
        cpu1, wall1, threads1, machine1 = time.process_time(), time.monotonic(), thread_counters(), machine_ticks()
        stop.set()
        for stream in streams:
            stream.join()
        loop_lag = loop.p95_lag_ms(wall0, wall1)
        loop.close()
        if worker is not None:
            worker.close()
        if scanner is not None:
            scanner.close()
        writer.close()
        engine.dispose()
    verdict = judge([s.log for s in streams], wall0, wall1, settings.video_fps, settings.analysis_interval, p95_limit)
    cores = (cpu1 - cpu0) / (wall1 - wall0)
    busy, stolen = ((after - before) / CLOCK_TICKS / (wall1 - wall0) for before, after in zip(machine0, machine1))
    trial = Trial(n, bool(verdict["passed"]), round(verdict["p95_callback_ms"], 1), round(verdict["min_analyses_per_s"], 3),
                  round(verdict["min_received_fps"], 2), round(verdict["min_output_fps"], 2), round(cores, 2),
                  round(cores / (os.cpu_count() or 1), 3), sum(s.log.errors for s in streams), round(verdict["p95_latency_ms"], 1),
                  round(loop_lag, 1), round(verdict["p95_content_age_ms"], 1), round(verdict["min_sent_fps"], 2),
                  thread_report(threads0, threads1, wall1 - wall0), round(max(busy - cores, 0.0), 2), round(stolen, 2))
    log.warning("%d streams: %s", n, trial)
    return trial


def stream_inputs(settings: Settings) -> tuple[EmotionClassifier | None, FaceMesh | None, list[bytes]]:
    """What every simulated stream shares, as the app configures it: the classifier, the landmark model, the clip."""
    classifier = (load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime,
                                  settings.inference_threads) if settings.emotion_inference else None)
    mesh = FaceMesh(settings.facemesh_path) if settings.attention and settings.facemesh_path.exists() else None
    return classifier, mesh, encoded_clip(settings.video_width, settings.video_height, settings.video_fps)
