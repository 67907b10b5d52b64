"""Students' webcam clips made from real face images, for the attention benchmark and its tests.

Each clip shows one real face (scikit-image's astronaut, matplotlib's Grace Hopper, the astronaut mirrored) at a
desk in front of a 640x480 webcam, in four parts of equal length:
  screen    facing the screen, swaying a little and blinking every 4 s
  reading   head 21-29 degrees down, upper lids lowered 60-90 % of the eye's opening: reading notes or a
            phone below the camera
  closed    eyes shut (painted from the lids' skin), facing the screen
  aside     head turned 45-55 degrees to one side
The head poses are re-rendered from the photograph's own FaceMesh landmarks (benchmarks.faces.turn_head), so the
nose, brows and lids move as they would; the clip is H.264 like a recorded webcam stream.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import write_h264
from benchmarks.faces import close_eyes, turn_head
from engine.attention import FaceMesh
from engine.detectors import HaarDetector

PARTS = ("screen", "reading", "closed", "aside")
# what each part should read as: the attention state a teacher would want recorded
EXPECTED = {"screen": "attentive", "reading": "looking_down", "closed": "eyes_closed", "aside": "looking_away"}


@dataclass(frozen=True)
class ClipSpec:
    """Clips of `part_seconds` per part (PARTS, in order) at `fps`, width x height."""

    part_seconds: float = 40.0
    fps: int = 10
    width: int = 640
    height: int = 480

    @property
    def seconds(self) -> float:
        return self.part_seconds * len(PARTS)

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)

    def part_at(self, t: float) -> str:
        return PARTS[min(int(t // self.part_seconds), len(PARTS) - 1)]


@dataclass(frozen=True)
class Pose:
    pitch: int = 0
    yaw: int = 0
    lids: float = 0.0
    shut: bool = False


def pose_at(part: str, t: float, phase: float, side: int) -> Pose:
    """The head and lids of a student in `part`, `t` seconds into the clip (quantised, so frames share renders)."""
    sway = math.sin(0.5 * t + phase)
    if part == "screen":
        blinking = (t + phase) % 4.0 < 0.2
        return Pose(pitch=round(2 * sway), yaw=3 * round(math.sin(0.3 * t + phase)), lids=1.0 if blinking else 0.0)
    if part == "reading":
        return Pose(pitch=-25 + 2 * round(2 * math.sin(0.4 * t + phase)),
                    lids=round(0.75 + 0.15 * math.sin(0.7 * t + phase), 1))
    if part == "closed":
        return Pose(pitch=round(2 * sway), shut=True)
    if part == "aside":
        return Pose(yaw=side * (50 + 5 * round(math.sin(0.3 * t + phase))))
    raise ValueError(f"unknown part {part!r}")


def portraits() -> list[np.ndarray]:
    """Three students: the astronaut, Grace Hopper and the astronaut mirrored, cropped head and shoulders."""
    from benchmarks.galleries import real_faces

    astronaut, grace = real_faces(2)
    return [astronaut, grace, cv2.flip(astronaut, 1)]


class StudentCamera:
    """One student's webcam: renders the frame at time t of a clip."""

    def __init__(self, portrait: np.ndarray, mesh: FaceMesh, spec: ClipSpec, *, phase: float, side: int,
                 background: tuple[int, int, int] = (70, 80, 95)) -> None:
        box = max(HaarDetector().detect(portrait), key=lambda f: f.box.area).box
        self.portrait, self.spec, self.phase, self.side = portrait, spec, phase, side
        self.points, _score = mesh.landmarks(portrait, box)
        self.shut = close_eyes(portrait, box, mesh)
        self.scale = 0.92 * spec.height / portrait.shape[0]
        self.background = background
        self._renders: dict[Pose, np.ndarray] = {}

    def render(self, pose: Pose) -> np.ndarray:
        if pose not in self._renders:
            image = self.shut if pose.shut else self.portrait
            turned = turn_head(image, self.points, pitch=pose.pitch, yaw=pose.yaw, lids=pose.lids)
            self._renders[pose] = cv2.resize(turned, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        return self._renders[pose]

    def frame(self, t: float) -> np.ndarray:
        spec = self.spec
        head = self.render(pose_at(spec.part_at(t), t, self.phase, self.side))
        out = np.empty((spec.height, spec.width, 3), np.uint8)
        out[:] = self.background
        dx = round(4 * math.sin(0.9 * t + self.phase))
        dy = round(2 * math.sin(0.6 * t + 2 * self.phase))
        y0 = max(spec.height - head.shape[0] + dy, 0)  # seated: shoulders at the bottom of the picture
        x0 = (spec.width - head.shape[1]) // 2 + dx
        h, w = min(head.shape[0], spec.height - y0), min(head.shape[1], spec.width - x0)
        out[y0 : y0 + h, x0 : x0 + w] = head[:h, :w]
        return out


def cameras(mesh: FaceMesh, spec: ClipSpec) -> list[StudentCamera]:
    """The three students' cameras, each with its own sway phase and turning to its own side."""
    backgrounds = ((70, 80, 95), (95, 90, 70), (60, 75, 60))
    return [StudentCamera(p, mesh, spec, phase=1.3 * i, side=1 if i % 2 == 0 else -1, background=backgrounds[i])
            for i, p in enumerate(portraits())]


def write_clip(path: Path, camera: StudentCamera, on_frame: Callable[[], object] = lambda: None) -> Path:
    """Record the camera's clip as H.264 in an MP4 at `path`."""
    spec = camera.spec
    frames = (camera.frame(index / spec.fps) for index in range(spec.frames))
    return write_h264(path, frames, fps=spec.fps, width=spec.width, height=spec.height, on_frame=on_frame)
