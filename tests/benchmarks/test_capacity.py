import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.capacity.cli import main
from benchmarks.capacity.judging import Trial, face_rate, judge
from benchmarks.capacity.media import StreamLog
from benchmarks.capacity.search import combine, search, split_streams


def trial(n: int, passed: bool) -> Trial:
    return Trial(n, passed, 10.0, 1.0, 10.0, 10.0, 0.5, 0.25, 0)


def test_search_rises_by_steps_then_bisects() -> None:
    tried: list[int] = []

    def try_n(n: int) -> Trial:
        tried.append(n)
        return trial(n, n <= 23)

    best, trials = search(try_n, step=10, limit=64)
    assert best == 23 and tried == [10, 20, 30, 25, 22, 23, 24]
    assert search(lambda n: trial(n, False), step=10, limit=64)[0] == 0


def test_judge_takes_the_worst_stream() -> None:
    every_second = [(float(t), 1) for t in range(11)]
    frames = [t / 10 for t in range(100)]
    good = StreamLog(callback_ms=[(t / 10, 5.0) for t in range(100)], analyses=every_second, received=frames, sent=frames)
    slow = StreamLog(callback_ms=[(t / 10, 80.0 if t % 10 == 0 else 5.0) for t in range(100)],
                     analyses=every_second, received=frames, sent=frames)
    assert judge([good], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)["passed"]
    verdict = judge([good, slow], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)
    assert not verdict["passed"] and verdict["p95_callback_ms"] > 66
    sparse = StreamLog(callback_ms=good.callback_ms, analyses=[(0.0, 1), (2.0, 1), (4.0, 1), (6.0, 1)], received=frames,
                       sent=frames)
    assert judge([sparse], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)["min_analyses_per_s"] == pytest.approx(0.5)


def test_judge_fails_a_stream_whose_returned_frames_lag() -> None:
    every_second = [(float(t), 1) for t in range(11)]
    quick_callbacks = [(t / 10, 5.0) for t in range(100)]
    frames = [t / 10 for t in range(100)]
    lagging = StreamLog(callback_ms=quick_callbacks, analyses=every_second, received=frames, sent=frames,
                        latency_ms=[(t / 10, 120.0) for t in range(100)])  # frames queue before they are sent back
    verdict = judge([lagging], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)
    assert not verdict["passed"] and verdict["p95_latency_ms"] == pytest.approx(120.0) and verdict["p95_callback_ms"] == 5.0
    prompt = StreamLog(callback_ms=quick_callbacks, analyses=every_second, received=frames, sent=frames,
                       latency_ms=[(t / 10, 20.0) for t in range(100)])
    assert judge([prompt], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)["passed"]
    skipping = StreamLog(callback_ms=quick_callbacks, analyses=every_second, received=frames, sent=frames[::2],
                         latency_ms=prompt.latency_ms)  # prompt, but half the frames never go back
    verdict = judge([skipping], 0.0, 10.0, fps=10, interval=1.0, p95_limit=66)
    assert not verdict["passed"] and verdict["min_sent_fps"] == pytest.approx(5.0)


def test_the_face_rate_ignores_a_second_track() -> None:
    # the face every second, plus a false alarm analysed alongside it now and then
    analyses = [(float(t), 1) for t in range(11)] + [(t + 0.01, 2) for t in (2, 3, 7)]
    assert face_rate(analyses, 0.0, 11.0) == pytest.approx(1.0)


@pytest.fixture
def restore_process_tuning():  # type: ignore[no-untyped-def]
    import sys

    import cv2

    from dashboard.webrtc.decoder_pool import share_decoder_threads
    from dashboard.webrtc.frame_pool import share_frame_threads
    from dashboard.webrtc.return_video import cap_return_bitrate, denoise_return_video, send_newest_frames

    before, threads = sys.getswitchinterval(), cv2.getNumThreads()
    yield
    sys.setswitchinterval(before)
    cv2.setNumThreads(threads)
    cap_return_bitrate(0)  # the benchmark tunes aiortc for the whole process, as the app does: aiortc's own again
    denoise_return_video(True)
    send_newest_frames(False)
    share_frame_threads(0)
    share_decoder_threads(0)


@pytest.mark.usefixtures("restore_process_tuning")
def test_a_short_real_run_reports_streams_and_cpu(tiny_models_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("ENGAGE_INSTANCES", "1")  # one app process: the streams run in this one
    assert main(["--streams", "2", "--seconds", "3", "--warmup", "1.5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (run,) = result["trials"]
    assert run["streams"] == 2 and run["errors"] == 0 and run["cpu_cores"] > 0
    assert result["reached_max_streams"] is False  # one run asked for, no search ceiling
    assert run["min_received_fps"] > 5 and run["min_output_fps"] > 1 and run["min_sent_fps"] > 5  # decode, callback, encode
    assert run["min_analyses_per_s"] > 0  # faces were found and analysed by the shared worker
    assert result["config"]["video"] == "320x240@10" and result["config"]["shared_worker"]
    assert run["p95_latency_ms"] > 0  # frames were timed from arrival to sending back
    threads = run["threads"]  # the measured window's threads by name
    assert threads["analysis-worker"]["threads"] == 1 and sum(g["cores"] for g in threads.values()) > 0
    assert run["other_cores"] >= 0 and run["steal_cores"] >= 0  # the rest of the machine, measured beside the run
    # the app's defaults: decoding and callbacks on shared threads, none per stream
    assert threads["decoder-pool"]["cores"] > 0 and threads["frame-pool"]["cores"] > 0
    assert "video-decoder" not in threads and "async_media_processor" not in threads
    # the async track answers a frame with the result made from an earlier one (10 fps: 100 ms)
    assert run["p95_content_age_ms"] >= 90, run


def test_streams_are_split_evenly_between_copies() -> None:
    assert split_streams(31, 2) == [16, 15] and split_streams(30, 3) == [10, 10, 10]
    assert split_streams(1, 2) == [1]  # no copy without a stream
    assert sum(split_streams(37, 4)) == 37


def test_copies_side_by_side_pass_only_together() -> None:
    a = Trial(15, True, 20.0, 1.0, 10.0, 9.9, 0.9, 0.45, 0, p95_latency_ms=40.0, min_sent_fps=10.0,
              threads={"frame-pool": {"threads": 2, "switches_per_s": 100, "cores": 0.3}}, other_cores=0.95, steal_cores=0.02)
    b = Trial(16, False, 30.0, 0.9, 9.8, 9.0, 1.0, 0.5, 1, p95_latency_ms=70.0, min_sent_fps=9.5,
              threads={"frame-pool": {"threads": 2, "switches_per_s": 150, "cores": 0.4}}, other_cores=0.85, steal_cores=0.05)
    both = combine([a, b])
    assert both.streams == 31 and not both.passed and both.errors == 1
    assert both.p95_callback_ms == 30.0 and both.p95_latency_ms == 70.0  # the worst stream of either copy
    assert both.min_analyses_per_s == 0.9 and both.min_output_fps == 9.0 and both.min_sent_fps == 9.5
    assert both.cpu_cores == 1.9 and both.cpu_share == 0.95
    assert both.threads["frame-pool"] == {"threads": 4, "switches_per_s": 250, "cores": 0.7}
    assert both.other_cores == 0.0  # each copy's "other" was its sibling: nothing else was busy
    assert both.steal_cores == 0.05
    assert combine([a, replace(b, passed=True)]).passed


def test_a_copy_that_fails_fails_the_run_with_its_error() -> None:
    from benchmarks.capacity.search import run_copies

    with pytest.raises(RuntimeError, match="(?s)a copy exited with 2:.*invalid float value: 'bogus'"):
        run_copies(2, 2, ["--p95-ms", "bogus"])


@pytest.mark.usefixtures("restore_process_tuning")
def test_copies_run_as_separate_processes_as_many_as_the_app_starts(tiny_models_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))  # the copies take this process's environment
    monkeypatch.setenv("ENGAGE_INSTANCES", "2")  # the app would start two processes: so does the benchmark
    assert main(["--streams", "3", "--seconds", "3", "--warmup", "1.5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (run,) = result["trials"]
    assert result["config"]["processes"] == 2 and run["streams"] == 3 and run["errors"] == 0
    assert run["min_sent_fps"] > 5 and run["min_analyses_per_s"] > 0  # both copies streamed and analysed
    assert run["threads"]["analysis-worker"]["threads"] == 2  # one shared worker in each copy
    assert run["cpu_cores"] > 0


def test_the_event_loop_probe_records_how_late_its_timer_runs() -> None:
    import time

    from benchmarks.capacity.media import EventLoopThread

    loop = EventLoopThread()
    began = time.monotonic()
    loop.loop.call_soon_threadsafe(time.sleep, 0.05)  # block the loop once: the probe must see it
    deadline = time.monotonic() + 30
    while len(loop.lag_ms) < 10 and time.monotonic() < deadline:  # wake-ups every 10 ms, however busy the machine
        time.sleep(0.01)
    loop.close()
    assert len(loop.lag_ms) >= 10
    worst = max(lag for _, lag in loop.lag_ms)
    assert worst >= 30
    assert 0 < loop.p95_lag_ms(began, time.monotonic()) <= worst and loop.p95_lag_ms(0.0, 0.0) == 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_machine_ticks_count_the_whole_machines_busy_time() -> None:
    import time

    from benchmarks.capacity.judging import machine_ticks

    busy0, steal0 = machine_ticks()
    end = time.process_time() + 0.3
    while time.process_time() < end:  # 0.3 s of CPU: 30 ticks at Linux's usual 100 per second
        pass
    busy1, steal1 = machine_ticks()
    assert busy1 - busy0 >= 20 and steal1 >= steal0 >= 0
