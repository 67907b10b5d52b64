"""Recorded lessons: how fast a video-call recording is analysed, and whether every person is one participant.

python -m benchmarks.video [--seconds 60] [--rate 1] [--keep DIR] [--only gallery-2x2,...] [--json]

Makes its own recordings from real face images (benchmarks.galleries), 1920x1080 at 30 fps, H.264:
  gallery-2x2   four people in a 2x2 gallery
  gallery-3x3   nine people in a 3x3 gallery
  cuts-2x2      four people; the recording cuts twice to a shared slide, and after the second cut the tiles are
                reordered (each person sits in another tile)
and analyses each as `python -m cli.analyze` does, with the default model and attention signals, at --rate analyses
per face per second. For each it prints the real-time factor (seconds of video per second of analysis, models
loaded beforehand), the decode-only real-time factor of the same file (the ceiling), participants found against
faces planted, and observations per face per second. --keep DIR keeps the recordings there and reuses them.
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import emit
from benchmarks.galleries import GallerySpec, write_gallery
from engine.analysis import RecordingOptions, analyse_video
from engine.attention import FaceMesh
from engine.classifier import load_classifier
from engine.detectors import wide_frame_detector
from engine.registry import resolve_model
from engine.video import VideoReader
from settings import Settings

log = logging.getLogger("benchmarks.video")


def specs(seconds: float) -> list[GallerySpec]:
    third = seconds / 3
    return [
        GallerySpec("gallery-2x2", 2, 2, seconds),
        GallerySpec("gallery-3x3", 3, 3, seconds),
        GallerySpec("cuts-2x2", 2, 2, seconds, cuts=((third - 2, third + 2), (2 * third - 3, 2 * third + 2)),
                    shuffle_after=2 * third),
    ]


def recording(spec: GallerySpec, folder: Path) -> Path:
    path = folder / f"{spec.name}-{spec.seconds:g}s.mp4"
    if not path.exists():
        log.info("recording %s (%d frames)", path, spec.frames)
        write_gallery(path.with_suffix(".part.mp4"), spec).rename(path)
    return path


def decode_only(path: Path) -> tuple[int, float, float]:
    """(frames, seconds of video, wall seconds) of decoding every frame."""
    with VideoReader(path) as reader:
        start = time.perf_counter()
        frames = reader.decode_only()
        return frames, reader.info.seconds, time.perf_counter() - start


def measure(spec: GallerySpec, path: Path, parts: tuple[object, object, object], rate: float) -> dict[str, object]:
    detector, classifier, mesh = parts
    options = RecordingOptions(rate=rate)
    with VideoReader(path) as reader:
        start = time.perf_counter()
        result = analyse_video(reader, detector, classifier, options=options, started=datetime.now(UTC),  # type: ignore[arg-type]
                               attention=mesh)  # type: ignore[arg-type]
        wall = time.perf_counter() - start
        seconds = reader.info.seconds or result.seconds
    dec_frames, _dec_seconds, dec_wall = decode_only(path)
    face_seconds = spec.faces * (seconds - sum(end - begin for begin, end in spec.cuts))
    return {
        "recording": spec.name, "width": spec.width, "height": spec.height, "fps": spec.fps, "seconds": round(seconds, 2),
        "faces_planted": spec.faces, "participants": result.identities.participants,
        "false_alarms": result.identities.false_alarms, "observations": len(result.observations),
        "observations_per_face_per_second": round(len(result.observations) / face_seconds, 3),
        "frames_decoded": result.frames_decoded, "frames_looked": result.frames_looked, "wall_s": round(wall, 2),
        "realtime_factor": round(seconds / wall, 2), "decode_only_frames": dec_frames,
        "decode_only_realtime_factor": round(seconds / dec_wall, 2),
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m benchmarks.video", description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=1.0, help="analyses per face per second")
    p.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the recordings in this folder")
    p.add_argument("--only", default="", help="comma-separated recording names")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    settings = Settings.from_env()
    detector = wide_frame_detector(settings.detector)
    classifier = load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime,
                                 settings.inference_threads)
    mesh = FaceMesh(settings.facemesh_path)
    chosen = [s for s in specs(args.seconds) if not args.only or s.name in args.only.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = [measure(spec, recording(spec, folder), (detector, classifier, mesh), args.rate) for spec in chosen]
    lines = [f"{'recording':<13}{'real time':>10}{'decode only':>12}{'people':>7}{'found':>6}{'obs/face/s':>11}",
             *(f"{r['recording']:<13}{r['realtime_factor']:>9}x{r['decode_only_realtime_factor']:>11}x"
               f"{r['faces_planted']:>7}{r['participants']:>6}{r['observations_per_face_per_second']:>11}" for r in rows)]
    emit({"rate": args.rate, "model": classifier.card.name, "cpus": os.cpu_count(), "recordings": rows}, "\n".join(lines),
         args.json)


if __name__ == "__main__":
    main()
