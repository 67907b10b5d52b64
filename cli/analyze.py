"""Command line: analyse a still image or a recorded video without the app.

python -m cli.analyze PATH [--json] [--annotate OUT.png] [--db URL --session NAME]

This is an entry point: it reads the settings and, only when --db is given, wires the database writer.
The engine's library modules never import the database layer.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import cv2

from engine.analysis import VideoResult, analyse_image, analyse_video, face_to_json
from engine.annotate import draw_faces
from engine.attention import FaceMesh
from engine.card import ModelCardError
from engine.classifier import EmotionClassifier, load_classifier
from engine.detectors import make_detector
from engine.media import MediaError, iter_frames, looks_like_video, open_video, read_image
from engine.registry import resolve_model
from engine.types import EMOTIONS, FaceResult
from settings import Settings, SettingsError

log = logging.getLogger("cli.analyze")


class CliError(Exception):
    """A failure to report as one line and exit 2."""


def positive_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(rate) or rate <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return rate


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line (with where to find help), like every other error of this command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m cli.analyze", description="Analyse faces in an image or a video.")
    p.add_argument("path", type=Path, help="an image (png, jpg, …) or a video (mp4, avi, …)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--annotate", type=Path, metavar="OUT", help="write the image with boxes and labels (images)")
    p.add_argument("--model", default=None, help="model folder name under the models directory (default: the default model)")
    p.add_argument("--runtime", default=None, choices=("tflite", "keras"), help="override the card's runtime")
    p.add_argument("--detector", default=None, choices=("haar", "mtcnn"))
    p.add_argument("--rate", type=positive_rate, default=None,
                   help="video: analyses per second per face (default: 1/ENGAGE_ANALYSIS_INTERVAL)")
    p.add_argument("--no-emotion", action="store_true", help="detect and track faces only; no emotion inference")
    p.add_argument("--no-attention", action="store_true", help="no landmark-based attention signals")
    p.add_argument("--db", default=None, metavar="URL", help="video: record observations into this database")
    p.add_argument("--session", default=None, metavar="NAME", help="video: the lesson session to record into (created if new)")
    p.add_argument("--no-progress", action="store_true", help="video: no progress bar")
    return p.parse_args(argv)


def load_parts(args: argparse.Namespace, settings: Settings) -> tuple[object, EmotionClassifier | None]:
    try:
        detector = make_detector(args.detector or settings.detector)
        if args.no_emotion or not settings.emotion_inference:
            return detector, None
        folder = resolve_model(settings.models_dir, args.model if args.model is not None else settings.model)
        return detector, load_classifier(folder, args.runtime or settings.runtime, settings.inference_threads)
    except (ModelCardError, ValueError, RuntimeError) as exc:
        raise CliError(str(exc)) from exc


def load_attention(args: argparse.Namespace, settings: Settings) -> FaceMesh | None:
    """The landmark model for attention signals, unless switched off or not installed."""
    if args.no_attention or not settings.attention:
        return None
    if not settings.facemesh_path.exists():
        log.warning("no landmark model at %s: attention signals are off", settings.facemesh_path)
        return None
    return FaceMesh(settings.facemesh_path)


def print_faces_table(results: list[FaceResult]) -> None:
    if not results:
        print("no face found")
        return
    print(f"{'face':>4}  {'box (x,y,w,h)':<22}{'label':<10}{'conf':>6}  " + " ".join(f"{e[:5]:>6}" for e in EMOTIONS))
    for i, r in enumerate(results, 1):
        box = ",".join(str(v) for v in r.box.as_list())
        if r.prediction is None:
            print(f"{i:>4}  {box:<22}{'-':<10}{'-':>6}")
            continue
        probs = r.prediction.as_dict()
        print(f"{i:>4}  {box:<22}{r.prediction.label:<10}{r.prediction.confidence:>6.2f}  "
              + " ".join(f"{probs[e]:>6.3f}" for e in EMOTIONS))


def check_annotate(path: Path) -> None:
    """Refuse an output OpenCV cannot write before any work is done."""
    if not cv2.haveImageWriter(str(path)):
        raise CliError(f"--annotate {path}: unknown image extension (use .png or .jpg)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"--annotate {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CliError(f"--annotate {path}: folder {folder} is not writable")


def run_image(args: argparse.Namespace, settings: Settings) -> int:
    if args.annotate:
        check_annotate(args.annotate)
    image = read_image(args.path, settings.max_image_pixels)
    detector, classifier = load_parts(args, settings)
    results = analyse_image(image, detector, classifier, load_attention(args, settings))  # type: ignore[arg-type]
    if args.annotate:
        try:
            written = cv2.imwrite(str(args.annotate), draw_faces(image.copy(), results))
        except cv2.error:
            written = False
        if not written:
            raise CliError(f"could not write {args.annotate} (unknown extension or unwritable folder)")
    if args.json:
        print(json.dumps({"faces": [face_to_json(r) for r in results]}))
    else:
        print_faces_table(results)
    return 0


def run_video(args: argparse.Namespace, settings: Settings) -> int:
    if args.annotate:
        raise CliError("--annotate is for images; videos are summarised per track")
    if bool(args.db) != bool(args.session):
        raise CliError("--db and --session go together")
    rate = args.rate if args.rate is not None else 1.0 / settings.analysis_interval
    database = connect_database(args.db) if args.db else None  # a bad URL fails now, not after the whole video
    capture, info = open_video(args.path)
    detector, classifier = load_parts(args, settings)
    from tqdm import tqdm

    started = datetime.now(UTC)
    with tqdm(total=info.frames or None, unit="frame", disable=args.no_progress or args.json, file=sys.stderr) as bar:
        result = analyse_video(iter_frames(capture, info), detector, classifier, interval=1.0 / rate,  # type: ignore[arg-type]
                               detect_width=max(info.width, 64), started=started, on_frame=lambda: bar.update(1),
                               attention=load_attention(args, settings))
    capture.release()
    if result.frames == 0:
        raise CliError(f"{args.path}: no frame could be decoded (corrupt or empty video)")
    lesson_id = record_video(database, args.session, result) if database else None
    report_video(args, result, info.fps, lesson_id)
    return 0


def connect_database(url: str):  # type: ignore[no-untyped-def]
    """The session factory for `url`, with its tables, or a CliError in one line if it cannot be used."""
    from db.session import DatabaseUnavailable, connect

    try:
        return connect(url)[1]
    except DatabaseUnavailable as exc:
        raise CliError(f"--db: {exc}") from None


def record_video(sessions, title: str, result: VideoResult) -> int:  # type: ignore[no-untyped-def]
    """Write a video's observations into a lesson session, one participant per track."""
    from db.lessons import add_participant, create_lesson, find_lesson, start_lesson
    from db.writer import ObservationWriter

    with sessions.begin() as s:
        lesson = find_lesson(s, title) or create_lesson(s, title, owner="cli")
        start_lesson(s, lesson)
        participants = {tid: add_participant(s, lesson, f"track-{tid}", consent=False).id for tid in result.tracks}
        lesson_id = lesson.id
    writer = ObservationWriter(sessions)
    for obs in result.observations:
        writer.submit(lesson_id, participants[obs.track_id], obs)
    writer.close(timeout=120)
    stats = writer.stats
    if stats.written != len(result.observations):
        raise CliError(f"only {stats.written} of {len(result.observations)} observations were written "
                       f"({stats.dropped} dropped, {stats.failed} failed, {stats.refused} refused)")
    return lesson_id


def report_video(args: argparse.Namespace, result: VideoResult, fps: float, lesson_id: int | None) -> None:
    tracks = [
        {"track_id": t.track_id, "observations": t.observations, "first_s": round(t.first_s, 2),
         "last_s": round(t.last_s, 2), "dominant": t.dominant,
         "mean_probabilities": {k: round(v, 4) for k, v in t.mean_probabilities.items()}}
        for t in sorted(result.tracks.values(), key=lambda t: t.track_id)
    ]
    summary = {"frames": result.frames, "fps": round(fps, 2), "observations": len(result.observations),
               "tracks": tracks, "session_id": lesson_id}
    if args.json:
        print(json.dumps(summary))
        return
    print(f"{result.frames} frames, {len(result.observations)} observations, {len(tracks)} tracked face(s)")
    for t in tracks:
        print(f"  track {t['track_id']:>3}: {t['observations']:>5} obs  {t['first_s']:>7.1f}s-{t['last_s']:<7.1f}s  "
              f"mostly {t['dominant'] or '-'}")
    if lesson_id is not None:
        print(f"recorded into lesson session {args.session!r} (id {lesson_id})")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # a usage error (already printed in one line) or --help
        return int(exc.code or 0)
    try:
        settings = Settings.from_env()
        if looks_like_video(args.path):
            return run_video(args, settings)
        return run_image(args, settings)
    except (CliError, MediaError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a folder that vanished or a full disk while writing
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
