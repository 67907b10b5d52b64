import logging
import subprocess
import sys
from pathlib import Path

import pytest

import settings as settings_module
from settings import MAX_AUTO_INSTANCES, Settings, SettingsError, Tuning, usable_cores


def test_defaults_need_no_environment() -> None:
    s = Settings.from_env({})
    assert s.resolved_database_url == "sqlite:///data/engagement.db"
    assert s.models_dir == Path("models") and s.detector == "haar" and s.emotion_inference


def test_values_are_read_and_typed() -> None:
    s = Settings.from_env({"ENGAGE_ANALYSIS_INTERVAL": "0.5", "ENGAGE_DETECT_WIDTH": "480",
                           "ENGAGE_DATABASE_URL": "sqlite:///x.db", "ENGAGE_PRIVACY_MODE": "attention-only",
                           "ENGAGE_ICE_SERVERS": '[{"urls": ["stun:stun.example.org:3478"]}]'})
    assert s.analysis_interval == 0.5 and s.detect_width == 480 and s.resolved_database_url == "sqlite:///x.db"
    assert not s.emotion_inference and s.ice_servers[0]["urls"] == ["stun:stun.example.org:3478"]


@pytest.mark.parametrize("env", [
    {"ENGAGE_DETECT_WIDTH": "wide"}, {"ENGAGE_PRIVACY_MODE": "spy"}, {"ENGAGE_DETECTOR": "yolo"},
    {"ENGAGE_ICE_SERVERS": "{}"}, {"ENGAGE_ANALYSIS_INTERVAL": "0"}, {"ENGAGE_FOLLOW_INTERVAL": "-1"},
    {"ENGAGE_RETURN_VIDEO_KBPS": "-1"},
    {"ENGAGE_LOG_LEVEL": "chatty"}, {"ENGAGE_INSTANCES": "-1"}, {"ENGAGE_ATTENTION": "flase"},
    {"ENGAGE_BLINK_TRACKING": "maybe"},
])
def test_bad_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="ENGAGE_"):
        Settings.from_env(env)


def test_measured_choices_are_not_read_from_the_environment() -> None:
    s = Settings.from_env({"ENGAGE_FRAME_THREADS": "0", "ENGAGE_TUNING": "x", "ENGAGE_ASYNC_PROCESSING": "false"})
    assert s.tuning == Tuning() and not hasattr(s, "frame_threads")


def test_benchmarks_set_the_measured_choices_by_name() -> None:
    tuning = Tuning.parse(["frame_threads=0", "async_processing=false", "switch_interval_ms=1.5"])
    assert (tuning.frame_threads, tuning.async_processing, tuning.switch_interval_ms) == (0, False, 1.5)
    assert tuning.decoder_threads == Tuning().decoder_threads


@pytest.mark.parametrize("pairs, message", [
    (["frame_threads"], "NAME=VALUE"), (["gpu=1"], "NAME=VALUE"), (["async_processing=flase"], "--tune async_processing"),
    (["frame_threads=-1"], ">= 0"), (["background_nice=20"], "between"), (["decoder_threads=two"], "--tune decoder_threads"),
])
def test_bad_measured_choices_are_one_clear_error(pairs: list[str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Tuning.parse(pairs)


def test_instances_default_to_one_per_usable_core_within_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, expected in ((1, 1), (2, 2), (64, MAX_AUTO_INSTANCES)):
        monkeypatch.setattr(settings_module, "usable_cores", lambda cores=cores: cores)
        assert Settings.from_env({}).app_instances == expected
    assert Settings.from_env({"ENGAGE_INSTANCES": "3"}).app_instances == 3  # a number is taken as it is


def test_a_container_cpu_quota_lowers_the_usable_cores(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    unlimited = usable_cores(tmp_path / "absent")
    assert unlimited >= 1
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == unlimited
    cpu_max.write_text("150000 100000\n")  # --cpus=1.5: one whole core
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("50000 100000\n")  # half a core still runs one process
    assert usable_cores(cpu_max) == 1


def test_tune_process_sets_the_switch_interval_and_opencv_threads() -> None:
    import sys

    import cv2

    before, threads = sys.getswitchinterval(), cv2.getNumThreads()
    try:
        Settings(tuning=Tuning(switch_interval_ms=0.5, opencv_threads=1)).tune_process()
        assert sys.getswitchinterval() == pytest.approx(0.0005) and cv2.getNumThreads() == 1
    finally:
        sys.setswitchinterval(before)
        cv2.setNumThreads(threads)


def test_tune_process_sets_up_the_log_at_the_configured_level() -> None:
    """In a fresh process (pytest's own handlers make basicConfig a no-op here): the root logger takes the level."""
    code = ("import logging; from settings import Settings; "
            "Settings.from_env({'ENGAGE_LOG_LEVEL': 'debug'}).tune_process(); "
            "logging.getLogger('engine.x').debug('hello'); print(logging.getLogger().level)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(logging.DEBUG) and "DEBUG engine.x: hello" in done.stderr


def test_named_loggers_can_log_at_debug_while_the_rest_stays_at_the_level() -> None:
    code = ("import logging; from settings import Settings; "
            "Settings.from_env({'ENGAGE_DEBUG_LOGGERS': 'streamlit_webrtc, engine.y'}).tune_process(); "
            "logging.getLogger('streamlit_webrtc.component').debug('lifecycle'); "
            "logging.getLogger('engine.y').debug('why'); logging.getLogger('engine.x').debug('noise')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "DEBUG streamlit_webrtc.component: lifecycle" in done.stderr and "DEBUG engine.y: why" in done.stderr
    assert "noise" not in done.stderr


def test_booleans_take_the_usual_words_and_nothing_else() -> None:
    for word in ("1", "true", "Yes", " on "):
        assert Settings.from_env({"ENGAGE_ATTENTION": word}).attention is True
    for word in ("0", "FALSE", "no", "off"):
        assert Settings.from_env({"ENGAGE_ATTENTION": word}).attention is False


def test_a_bad_setting_stops_the_app_with_one_line(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.serve import main

    monkeypatch.setenv("ENGAGE_ATTENTION", "flase")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ENGAGE_ATTENTION" in err and "Traceback" not in err


def test_a_refused_first_admin_stops_the_app_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.serve import main

    monkeypatch.setenv("ENGAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("ENGAGE_ADMIN_USERNAME", "a")
    monkeypatch.setenv("ENGAGE_ADMIN_PASSWORD", "a long enough passphrase")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ENGAGE_ADMIN_USERNAME" in err and "usernames are" in err


def test_the_time_zone_is_an_iana_name_or_the_servers_own() -> None:
    from zoneinfo import ZoneInfo

    assert Settings.from_env({"ENGAGE_TIMEZONE": "Europe/Berlin"}).zone == ZoneInfo("Europe/Berlin")
    assert Settings.from_env({}).zone is not None  # the server's own
    for bad in ("Mars/Olympus", "../../etc/passwd"):
        with pytest.raises(SettingsError, match="ENGAGE_TIMEZONE.*IANA name"):
            Settings.from_env({"ENGAGE_TIMEZONE": bad})
