"""Attention signals on real faces: eye aspect ratio open vs edited shut (iris-model and FaceMesh eyelids),
head pose on the astronaut as is, mirrored and rotated, and the cost per face.

python -m benchmarks.attention [--json]
"""
from __future__ import annotations

import argparse
import sys
from functools import partial

import cv2

from benchmarks.common import astronaut, emit, time_ms
from benchmarks.faces import close_eyes
from engine.attention import LEFT_EYE, RIGHT_EYE, FaceMesh, eye_aspect_ratio
from engine.detectors import HaarDetector
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.attention", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    mesh = FaceMesh(Settings.from_env().facemesh_path)
    image = astronaut()
    views = {"astronaut": image, "mirrored": cv2.flip(image, 1),
             "rotated 15 deg": cv2.warpAffine(image, cv2.getRotationMatrix2D((256, 256), 15, 1.0), (512, 512))}
    box = max(HaarDetector().detect(image), key=lambda f: f.box.area).box
    views["eyes edited shut"] = close_eyes(image, box, mesh)
    rows = {}
    for name, view in views.items():
        face = box if name == "eyes edited shut" else max(HaarDetector().detect(view), key=lambda f: f.box.area).box
        points, _score = mesh.landmarks(view, face)
        state = mesh.attention(view, face)
        rows[name] = {**state.as_dict(), "ear_facemesh_only": round(
            (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2, 4)}
    cost = round(time_ms(partial(mesh.attention, image, box), args.repeats), 2)
    lines = [f"{'face':<18}{'EAR (iris)':>11}{'EAR (mesh)':>11}{'eyes open':>10}{'yaw':>7}{'pitch':>7}{'away':>6}"]
    for name, r in rows.items():
        lines.append(f"{name:<18}{r['ear']:>11.3f}{r['ear_facemesh_only']:>11.3f}{str(r['eyes_open']):>10}"
                     f"{r['yaw']:>7.1f}{r['pitch']:>7.1f}{str(r['looking_away']):>6}")
    lines.append(f"landmarks + eyelids + pose: {cost} ms per face (median of {args.repeats})")
    emit({"faces": rows, "ms_per_face": cost}, "\n".join(lines), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
