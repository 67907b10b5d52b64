"""One typed settings object, read from ENGAGE_* environment variables at the entry points only."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIVACY_MODES: tuple[str, ...] = ("aggregate", "per-student", "attention-only")
DETECTORS: tuple[str, ...] = ("haar", "blazeface", "mtcnn")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")


TRUE_WORDS: tuple[str, ...] = ("1", "true", "yes", "on")
FALSE_WORDS: tuple[str, ...] = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


@dataclass(frozen=True)
class Tuning:
    """How the app uses its cores, as chosen by measurement (docs/benchmarks.md). Not configuration: the app always
    runs with these values; the benchmarks that chose them set others to compare (`--tune NAME=VALUE`)."""

    async_processing: bool = True  # frame callbacks off the event loop, on the shared threads below (False: on the loop)
    frame_threads: int = 2  # threads that run every stream's frame callback (0: streamlit-webrtc's thread per stream)
    decoder_threads: int = 2  # threads that decode every stream's incoming video (0: aiortc's thread per stream)
    background_scans: bool = True  # full scans on one thread shared by all streams, not in the frame callbacks
    background_nice: int = 5  # the analysis and scan workers run this much lower in priority than the video (Linux)
    switch_interval_ms: float = 0.2  # Python's GIL switch interval; short keeps many streams' callbacks prompt (0: 5 ms)
    opencv_threads: int = 1  # OpenCV's own pool; 1 because streams already run in parallel (0: OpenCV's default)
    return_video_denoise: bool = False  # aiortc's VP8 denoiser on the video sent back (~0.006 cores per student)
    return_newest_frames: bool = True  # a late sender skips to the newest processed frame (False: queues every one)

    @classmethod
    def parse(cls, pairs: list[str]) -> Tuning:
        """Tuning from NAME=VALUE pairs (a benchmark's --tune arguments); unnamed ones keep the app's values."""
        names = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for pair in pairs:
            name, sep, raw = pair.partition("=")
            if not sep or name not in names:
                raise SettingsError(f"--tune {pair!r}: expected NAME=VALUE with NAME one of {', '.join(names)}")
            values[name] = _convert(name, raw, getattr(cls(), name), prefix="--tune ")
        tuning = cls(**values)
        tuning.validate()
        return tuning

    def validate(self) -> None:
        if min(self.frame_threads, self.decoder_threads, self.opencv_threads) < 0 or self.switch_interval_ms < 0:
            raise SettingsError("frame_threads, decoder_threads, opencv_threads and switch_interval_ms must be >= 0")
        if not 0 <= self.background_nice <= 19:
            raise SettingsError("background_nice must be between 0 (the workers' priority unchanged) and 19")


@dataclass(frozen=True)
class Settings:
    """Every setting an operator may change, with the embedded defaults that run it out of the box."""

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: sqlite:///<data_dir>/engagement.db
    models_dir: Path = Path("models")
    model: str = ""  # empty: the model whose card says "default": true
    runtime: str = ""  # empty: the runtime the card names (tflite or keras)
    detector: str = "haar"
    detect_width: int = 240  # streams scan for faces on a copy this wide: Haar's 24-px window finds faces >= 10 % of it
    detect_interval: float = 1.0  # seconds between full scans while a face is missing (0: scan every frame, no following)
    follow_interval: float = 0.25  # seconds between re-detections of known faces near their last box (0: every frame)
    rescan_interval: float = 10.0  # seconds between full scans while every known face is followed
    analysis_interval: float = 1.0  # seconds between two analyses (and records) of one tracked face
    inference_threads: int = 1  # per model; streams already run in parallel (0: as many as the machine has cores)
    max_image_pixels: int = 50_000_000  # larger uploads are refused before decoding
    privacy_mode: str = "aggregate"
    min_group_size: int = 3  # aggregate mode hides windows with fewer contributing students
    attention: bool = True  # presence, eyes and head pose from facial landmarks (models/facemesh)
    blink_tracking: bool = False  # landmarks on every frame to count blinks (~5 ms per face per frame)
    retention_days: int = 30  # observations older than this are deleted at start-up and by cli.retention; 0 keeps all
    ice_servers: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # none: same machine or LAN
    video_width: int = 320  # what students' browsers are asked to capture (README, Capacity: chosen by measurement)
    video_height: int = 240
    video_fps: int = 10
    return_video_kbps: int = 300  # cap on the video sent back to each student (their picture, overlay drawn); 0: aiortc's own
    instances: int = 0  # app processes behind one port (dashboard.serve); 0: one per usable CPU core, at most 8
    log_level: str = "INFO"  # the app's log on stderr: DEBUG, INFO, WARNING or ERROR (libraries' messages included)
    debug_loggers: str = ""  # comma-separated loggers logged at DEBUG whatever log_level says, e.g. streamlit_webrtc
    secure_cookies: bool = False  # sign-in cookies marked Secure even on plain HTTP: behind a proxy that serves HTTPS
    timezone: str = ""  # the school's time zone for every time shown (IANA name, e.g. Europe/Berlin); empty: the server's
    admin_username: str = ""  # with admin_password: the first admin, created at start-up if missing
    admin_password: str = ""
    tuning: Tuning = field(default_factory=Tuning)  # not read from the environment: see Tuning

    def stream_options(self) -> dict[str, Any]:
        """Keyword arguments for engine.stream.StreamProcessor: its schedule as configured here."""
        return {"analysis_interval": self.analysis_interval, "detect_width": self.detect_width,
                "detect_interval": self.detect_interval, "follow_interval": self.follow_interval,
                "rescan_interval": self.rescan_interval, "blinks": self.blink_tracking}

    def tune_process(self) -> None:
        """Process-wide knobs for a server that runs many streams in threads (the app and benchmarks.capacity call it):
        the log's level, the GIL's switch interval and OpenCV's pool.

        The GIL's default 5 ms switch interval lets a thread that just left a C call (codec, OpenCV, the model) wait
        up to 5 ms per hand-over behind the other streams' Python work; a callback crosses dozens of them.
        """
        import logging
        import sys

        import cv2

        logging.basicConfig(level=self.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for name in filter(None, (n.strip() for n in self.debug_loggers.split(","))):
            logging.getLogger(name).setLevel(logging.DEBUG)
        if self.tuning.switch_interval_ms > 0:
            sys.setswitchinterval(self.tuning.switch_interval_ms / 1000)
        if self.tuning.opencv_threads > 0:
            cv2.setNumThreads(self.tuning.opencv_threads)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'engagement.db'}"

    @property
    def app_instances(self) -> int:
        """How many app processes dashboard.serve starts: ENGAGE_INSTANCES, or for 0 one per usable core (at most
        MAX_AUTO_INSTANCES). One app process uses at most about 1.6 of two cores (README: Capacity)."""
        return self.instances or min(usable_cores(), MAX_AUTO_INSTANCES)

    @property
    def facemesh_path(self) -> Path:
        return self.models_dir / "facemesh" / "face_landmark.tflite"

    @property
    def emotion_inference(self) -> bool:
        """False in attention-only mode: no emotion classifier is loaded at all."""
        return self.privacy_mode != "attention-only"

    @property
    def zone(self) -> tzinfo:
        """The time zone times are shown in: ENGAGE_TIMEZONE, or the server's own."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        return datetime.now().astimezone().tzinfo or UTC

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ENGAGE_<FIELD> variables (e.g. ENGAGE_DATABASE_URL); unset ones keep their default."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "tuning":
                continue
            raw = env.get(f"ENGAGE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, getattr(cls(), f.name))
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise SettingsError(f"ENGAGE_TIMEZONE={self.timezone!r} is not a time zone; use an IANA name such as "
                                    "Europe/Berlin or America/New_York") from None
        if self.privacy_mode not in PRIVACY_MODES:
            raise SettingsError(f"ENGAGE_PRIVACY_MODE must be one of {PRIVACY_MODES}, not {self.privacy_mode!r}")
        if self.detector not in DETECTORS:
            raise SettingsError(f"ENGAGE_DETECTOR must be one of {DETECTORS}, not {self.detector!r}")
        intervals = (self.detect_interval, self.follow_interval, self.rescan_interval)
        if self.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(f"ENGAGE_LOG_LEVEL must be one of {LOG_LEVELS}, not {self.log_level!r}")
        if self.instances < 0:
            raise SettingsError("ENGAGE_INSTANCES must be >= 0 (app processes behind the one port; 0: one per core)")
        if self.return_video_kbps < 0:
            raise SettingsError("ENGAGE_RETURN_VIDEO_KBPS must be >= 0 (0: aiortc's own bitrate)")
        if self.analysis_interval <= 0 or self.detect_width < 64 or self.min_group_size < 1 or min(intervals) < 0:
            raise SettingsError("ENGAGE_ANALYSIS_INTERVAL must be > 0, ENGAGE_DETECT_WIDTH >= 64, "
                                "ENGAGE_DETECT/FOLLOW/RESCAN_INTERVAL >= 0, ENGAGE_MIN_GROUP_SIZE >= 1")


MAX_AUTO_INSTANCES = 8  # each instance holds its own models (~300 MB resident while streaming, README: Deployment)


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPU cores this process may run on: its affinity, lowered by a cgroup (v2) CPU quota such as a container's
    --cpus (rounded down, at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) // int(period))
    except (OSError, ValueError):
        pass
    return max(cores, 1)


def _convert(name: str, raw: str, default: Any, prefix: str = "ENGAGE_") -> Any:
    try:
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, bool):
            word = raw.strip().lower()
            if word not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError(f"expected one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
            return word in TRUE_WORDS
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            parsed = json.loads(raw)
            if not isinstance(parsed, list) or not all(isinstance(s, dict) for s in parsed):
                raise ValueError("expected a JSON list of objects")
            return tuple(parsed)
    except ValueError as exc:
        shown = f"ENGAGE_{name.upper()}" if prefix == "ENGAGE_" else f"{prefix}{name}"
        raise SettingsError(f"{shown}={raw!r}: {exc}") from exc
    return raw
