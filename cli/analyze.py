"""Command line: analyse a still image or a recorded video without the app.

python -m cli.analyze IMAGE [--json] [--annotate OUT.png]
python -m cli.analyze VIDEO|FOLDER ... [--rate 1] [--json] [--db URL --session NAME]

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
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import cv2

from engine.analysis import RecordingOptions, RecordingResult, analyse_image, analyse_video, face_to_json
from engine.annotate import draw_faces
from engine.attention import FaceMesh
from engine.card import ModelCardError
from engine.classifier import EmotionClassifier, load_classifier
from engine.detectors import make_detector, wide_frame_detector
from engine.media import VIDEO_SUFFIXES, MediaError, looks_like_video, read_image
from engine.registry import resolve_model
from engine.types import EMOTIONS, FaceResult
from engine.video import VideoReader
from settings import DETECTORS, Settings, SettingsError

log = logging.getLogger("cli.analyze")


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"})


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
    p.add_argument("path", type=Path, nargs="+",
                   help="an image (png, jpg, …), or one or more videos (mp4, avi, …) or folders of videos")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--annotate", type=Path, metavar="OUT", help="write the image with boxes and labels (images)")
    p.add_argument("--model", default=None, help="model folder name under the models directory (default: the default model)")
    p.add_argument("--runtime", default=None, choices=("tflite", "keras"), help="override the card's runtime")
    p.add_argument("--detector", default=None, choices=DETECTORS)
    p.add_argument("--rate", type=positive_rate, default=None,
                   help="video: analyses per second per face (default: 1/ENGAGE_ANALYSIS_INTERVAL)")
    p.add_argument("--small-faces", action="store_true",
                   help="video: a classroom camera; find faces down to about 40 px on 1080p (scans cost ~4x)")
    p.add_argument("--no-emotion", action="store_true", help="detect and track faces only; no emotion inference")
    p.add_argument("--no-attention", action="store_true", help="no landmark-based attention signals")
    p.add_argument("--db", default=None, metavar="URL", help="video: record observations into this database")
    p.add_argument("--session", default=None, metavar="NAME",
                   help="video: the lesson session to record into (created if new); with several videos, "
                        "each goes into its own lesson 'NAME: file name'")
    p.add_argument("--owner", default="cli", metavar="USERNAME",
                   help="video: the staff account whose dashboard shows the recorded lessons (default: admins only)")
    p.add_argument("--no-progress", action="store_true", help="video: no progress bar")
    return p.parse_args(argv)


def load_parts(args: argparse.Namespace, settings: Settings) -> tuple[object, EmotionClassifier | None]:
    try:
        detector = make_detector(args.detector) if args.detector else wide_frame_detector(settings.detector)
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


def video_paths(paths: list[Path]) -> list[Path]:
    """The recordings named: files as given, and the videos directly inside any folder (by name)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            videos = sorted(p for p in path.iterdir() if p.is_file() and looks_like_video(p))
            if not videos:
                raise CliError(f"{path}: no video files in this folder ({', '.join(sorted(VIDEO_SUFFIXES))})")
            found += videos
        elif looks_like_video(path) or not path.exists():
            found.append(path)
        else:
            raise CliError(f"{path}: not a video; images are analysed one at a time")
    return found


def lesson_title(session: str, path: Path, several: bool) -> str:
    return f"{session}: {path.name}" if several else session


def run_videos(args: argparse.Namespace, settings: Settings) -> int:
    """Analyse one or more recordings, each into its own lesson; a file that fails is reported and the rest go on."""
    if args.annotate:
        raise CliError("--annotate is for images; videos are summarised per participant")
    if bool(args.db) != bool(args.session):
        raise CliError("--db and --session go together")
    paths = video_paths(args.path)
    rate = args.rate if args.rate is not None else 1.0 / settings.analysis_interval
    database = connect_database(args.db) if args.db else None  # a bad URL fails now, not after the whole video
    if database is not None and args.owner != "cli":
        check_owner(database, args.owner)
    if len(paths) == 1:  # one file: a bad one is the only error, before any model is loaded
        VideoReader(paths[0]).close()
    parts = load_parts(args, settings)
    attention = load_attention(args, settings)
    summaries: list[dict[str, object]] = []
    for path in paths:
        try:
            options = RecordingOptions(rate=rate)
            summary = analyse_file(path, args, parts, attention, options.small_faces() if args.small_faces else options)
            if database is not None:
                title = lesson_title(args.session, path, len(paths) > 1)
                result = summary.pop("result")
                summary["session_id"] = record_video(database, title, result, summary["seconds"], args.owner)  # type: ignore[arg-type]
            summary.pop("result", None)
        except (CliError, MediaError) as exc:
            if len(paths) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            summary = {"file": str(path), "error": str(exc)}
        summaries.append(summary)
        if args.json:
            print(json.dumps(summary), flush=True)
    if not args.json:
        print_video_table(summaries, args.session if database is not None else None, len(paths) > 1)
    return 2 if any("error" in s for s in summaries) else 0


def analyse_file(path: Path, args: argparse.Namespace, parts: tuple[object, EmotionClassifier | None],
                 attention: FaceMesh | None, options: RecordingOptions) -> dict[str, object]:
    """Analyse one recording with a progress bar (seconds of video, real-time factor, time left)."""
    from tqdm import tqdm

    detector, classifier = parts
    with VideoReader(path) as reader:
        info = reader.info
        bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of video [{elapsed}<{remaining}{postfix}]"
        with tqdm(total=round(info.seconds, 1) or None, desc=path.name, bar_format=bar_format, file=sys.stderr,
                  disable=args.no_progress or args.json) as bar:
            start = time.perf_counter()

            def progress(seconds: float) -> None:
                bar.update(round(seconds, 1) - bar.n)
                elapsed = time.perf_counter() - start
                if elapsed > 0:
                    bar.set_postfix_str(f"{seconds / elapsed:.1f}x real time", refresh=False)

            result = analyse_video(reader, detector, classifier, options=options, started=datetime.now(UTC),  # type: ignore[arg-type]
                                   attention=attention, on_frame=progress)
            wall = time.perf_counter() - start
            if bar.total:
                bar.update(bar.total - bar.n)  # the last look falls a little before the end
    seconds = max(info.seconds, result.seconds)
    per_participant = [
        {"participant": p.participant, "observations": p.observations, "first_s": round(p.first_s, 2),
         "last_s": round(p.last_s, 2), "dominant": p.dominant,
         "mean_probabilities": {k: round(v, 4) for k, v in p.mean_probabilities.items()}}
        for p in result.participants.values()
    ]
    return {"file": str(path), "frames": result.frames_decoded, "fps": round(info.fps, 2), "seconds": round(seconds, 2),
            "wall_s": round(wall, 2), "realtime_factor": round(seconds / wall, 2) if wall > 0 else None,
            "participants": len(per_participant), "observations": len(result.observations),
            "false_alarms": result.identities.false_alarms, "per_participant": per_participant,
            "session_id": None, "result": result}


def connect_database(url: str):  # type: ignore[no-untyped-def]
    """The session factory for `url`, with its tables, or a CliError in one line if it cannot be used."""
    from db.session import DatabaseUnavailable, connect

    try:
        return connect(url)[1]
    except DatabaseUnavailable as exc:
        raise CliError(f"--db: {exc}") from None


def check_owner(sessions, username: str) -> None:  # type: ignore[no-untyped-def]
    from services.recordings import Recordings

    if not Recordings(sessions).owner_exists(username):
        raise CliError(f"--owner {username}: no such staff account (python -m cli.accounts lists them)")


def record_video(sessions, title: str, result: RecordingResult, seconds: float, owner: str = "cli") -> int:  # type: ignore[no-untyped-def]
    """Write a recording into a lesson (services.recordings), or a CliError in one line."""
    from db.lessons import LessonError
    from services.recordings import Recordings

    try:
        return Recordings(sessions).record(title, owner, started=result.started, seconds=seconds,
                                           participants=result.participants, observations=result.observations)
    except LessonError as exc:
        raise CliError(str(exc)) from None


def print_video_table(summaries: list[dict[str, object]], session: str | None, several: bool) -> None:
    if not several and "error" not in summaries[0]:
        s = summaries[0]
        print(f"{s['frames']} frames ({s['seconds']} s) in {s['wall_s']} s: {s['realtime_factor']}x real time; "
              f"{s['observations']} observations of {s['participants']} participant(s)")
        for p in s["per_participant"]:  # type: ignore[attr-defined]
            print(f"  person {p['participant']:>3}: {p['observations']:>5} obs  {p['first_s']:>7.1f}-{p['last_s']:.1f} s  "
                  f"mostly {p['dominant'] or '-'}")
        if session is not None:
            print(f"recorded into lesson session {session!r} (id {s['session_id']})")
        return
    print(f"{'file':<32}{'seconds':>9}{'real time':>11}{'participants':>14}{'observations':>14}  lesson")
    for s in summaries:
        name = Path(str(s["file"])).name[:31]
        if "error" in s:
            print(f"{name:<32}  failed: {s['error']}")
            continue
        print(f"{name:<32}{s['seconds']:>9}{s['realtime_factor']:>10}x{s['participants']:>14}{s['observations']:>14}  "
              f"{s['session_id'] if s['session_id'] is not None else '-'}")
    failed = sum(1 for s in summaries if "error" in s)
    print(f"{len(summaries) - failed} of {len(summaries)} recordings analysed"
          + (f" into lessons named {session!r}: <file name>" if session is not None else ""))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # a usage error (already printed in one line) or --help
        return int(exc.code or 0)
    try:
        settings = Settings.from_env()
        first = args.path[0]
        if len(args.path) > 1 or looks_like_video(first) or (first.is_dir() and first.suffix.lower() not in IMAGE_SUFFIXES):
            return run_videos(args, settings)
        args.path = args.path[0]
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
