"""Per-frame cost of the stream pipeline (detect + track + classify + attention + annotate) and each stage's share.

python -m benchmarks.pipeline [--frames 150] [--json]

The clip is scikit-image's astronaut (a real face) drifting across a webcam-sized frame at 15 fps; the
processor runs exactly as in a stream, with the default model and settings (detection on a copy at most
ENGAGE_DETECT_WIDTH wide, one analysis per face per ENGAGE_ANALYSIS_INTERVAL).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.common import astronaut, emit, frame_of
from engine import stream as stream_module
from engine.attention import FaceMesh
from engine.classifier import load_classifier
from engine.detectors import make_detector
from engine.registry import resolve_model
from engine.stream import StreamProcessor
from settings import Settings

FPS = 15


class Timed:
    """Wraps one method of an object and adds its wall time to a bucket."""

    def __init__(self, inner: Any, method: str, totals: dict[str, float], bucket: str) -> None:
        self._inner, self._method, self._totals, self._bucket = inner, method, totals, bucket

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name != self._method:
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self._totals[self._bucket] += time.perf_counter() - start

        return timed


def clip(width: int, height: int, frames: int) -> list[np.ndarray]:
    """The astronaut letterboxed into the frame, drifting a few pixels per frame like a person in a chair."""
    base = frame_of(astronaut(), width, height)
    return [np.roll(base, int(6 * np.sin(i / 10) * width / 320), axis=1) for i in range(frames)]


def run(settings: Settings, width: int, height: int, frames: int, attention: bool) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    classifier = load_classifier(resolve_model(settings.models_dir, settings.model), settings.runtime, settings.inference_threads)
    mesh = FaceMesh(settings.facemesh_path) if attention and settings.facemesh_path.exists() else None
    clock = [0.0]
    processor = StreamProcessor(
        Timed(make_detector(settings.detector), "detect", totals, "detect"),
        Timed(classifier, "predict", totals, "classify"),
        None, attention=Timed(mesh, "attention", totals, "attention") if mesh else None, clock=lambda: clock[0],
        **settings.stream_options(),
    )
    original_draw = stream_module.draw_faces

    def timed_draw(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_draw(*args)
        finally:
            totals["annotate"] += time.perf_counter() - start

    stream_module.draw_faces = timed_draw  # type: ignore[assignment]
    try:
        video = clip(width, height, frames)
        processor.process(video[0])  # warm-up: interpreters planned, cascade loaded
        totals.clear()
        start = time.perf_counter()
        for i, frame in enumerate(video):
            clock[0] = i / FPS
            processor.process(frame)
        total = time.perf_counter() - start
    finally:
        stream_module.draw_faces = original_draw  # type: ignore[assignment]
    stages = {k: totals[k] for k in ("detect", "classify", "attention", "annotate")}
    stages["track and rest"] = max(total - sum(stages.values()), 0.0)
    result = {"ms_per_frame": round(total / frames * 1000, 2), "frames": frames,
              "analyses": processor.stats.analyses}
    result.update({f"ms_{k.replace(' ', '_')}": round(v / frames * 1000, 2) for k, v in stages.items()})
    result.update({f"share_{k.replace(' ', '_')}": round(v / total, 3) if total else 0.0 for k, v in stages.items()})
    if mesh is not None and totals["attention"]:
        result["ms_attention_per_face"] = round(totals["attention"] / max(processor.stats.analyses, 1) * 1000, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--no-attention", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    rows = {f"{w}x{h}": run(settings, w, h, args.frames, not args.no_attention) for w, h in ((320, 240), (640, 480))}
    lines = [f"{'frame':<9}{'ms/frame':>9}{'detect':>9}{'classify':>10}{'attention':>11}{'annotate':>10}{'track+rest':>12}"]
    for size, r in rows.items():
        lines.append(f"{size:<9}{r['ms_per_frame']:>9.2f}{r['ms_detect']:>9.2f}{r['ms_classify']:>10.2f}"
                     f"{r['ms_attention']:>11.2f}{r['ms_annotate']:>10.2f}{r['ms_track_and_rest']:>12.2f}")
    schedule = (f"a full scan of every frame on a copy <= {settings.detect_width} px wide" if settings.detect_interval <= 0 else
                f"full scans on a copy <= {settings.detect_width} px wide every {settings.rescan_interval:g} s while the face "
                f"is followed every {settings.follow_interval:g} s")
    lines.append(f"(ms per frame averaged over {args.frames} frames at {FPS} fps, one face, one analysis per "
                 f"{settings.analysis_interval:g} s; detector {settings.detector}: {schedule})")
    emit({"pipeline": rows, "detector": settings.detector, "detect_width": settings.detect_width}, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
