import time
from datetime import UTC, datetime

import numpy as np

from engine.inference import AnalysisWorker
from engine.stream import StreamProcessor, next_analysis
from engine.types import Box, Face, Observation
from tests.conftest import FakeClassifier, FakeDetector


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def frame() -> np.ndarray:
    return np.full((240, 320, 3), 128, np.uint8)


def test_observations_follow_the_configured_rate_per_face(fake_classifier: FakeClassifier) -> None:
    clock, seen = Clock(), list[Observation]()
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60), Box(200, 10, 60, 60)]), fake_classifier, seen.append,
                           analysis_interval=1.0, clock=clock)
    for i in range(50):  # 5 seconds at 10 fps
        clock.t = i * 0.1
        proc.process(frame())
    per_track: dict[int, int] = {}
    for obs in seen:
        per_track[obs.track_id] = per_track.get(obs.track_id, 0) + 1
    assert per_track == {1: 5, 2: 5}
    assert fake_classifier.faces == 10 and fake_classifier.calls == 5  # both faces of a frame in one batch
    assert all(isinstance(o, Observation) and o.prediction and o.prediction.label == "Happy" for o in seen)


def test_overlay_draws_on_a_copy_and_can_be_hidden(fake_classifier: FakeClassifier) -> None:
    original = frame()
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, min_hits=1)
    out = proc.process(original)
    assert not np.array_equal(out, original) and (original == 128).all()
    proc.overlay = False
    assert proc.process(original) is original


def test_a_failing_sink_is_counted_and_never_raises(fake_classifier: FakeClassifier) -> None:
    def broken(_obs: Observation) -> None:
        raise RuntimeError("database down")

    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, broken, min_hits=1)
    proc.process(frame())
    assert proc.stats.sink_errors == 1 and proc.stats.observations == 0


def test_a_failing_frame_is_skipped_counted_and_returned_unchanged(fake_classifier: FakeClassifier) -> None:
    class Exploding(FakeDetector):
        def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None) -> list[Face]:
            raise ValueError("bad frame")

    proc = StreamProcessor(Exploding([]), fake_classifier)
    f = frame()
    assert proc.process(f) is f
    assert proc.stats.frame_errors == 1 and proc.stats.frames == 1


def test_attention_only_records_presence_without_a_classifier() -> None:
    seen: list[Observation] = []
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), None, seen.append)
    for _ in range(3):  # a track is confirmed after three consecutive detections
        proc.process(frame())
    assert len(seen) == 1 and seen[0].prediction is None and seen[0].model_name == "attention-only"


def test_latest_results_carry_track_ids(fake_classifier: FakeClassifier) -> None:
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, min_hits=1)
    proc.process(frame())
    (result,) = proc.latest
    assert result.track_id == 1 and result.prediction is not None


def test_a_face_seen_in_one_frame_only_is_not_recorded(fake_classifier: FakeClassifier) -> None:
    seen: list[Observation] = []
    flicker = FakeDetector([[Box(10, 10, 60, 60)], [], [], []])
    proc = StreamProcessor(flicker, fake_classifier, seen.append, min_hits=2)
    for _ in range(4):
        proc.process(frame())
    assert seen == [] and fake_classifier.calls == 0


def test_close_forgets_tracks_so_a_restarted_stream_starts_fresh(fake_classifier: FakeClassifier) -> None:
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, min_hits=1)
    proc.process(frame())
    proc.close()
    assert proc.stats.frames == 1 and proc.latest == [] and proc.tracker.tracks == []


def test_attention_signals_are_recorded_with_each_observation(fake_classifier: FakeClassifier) -> None:
    from engine.types import AttentionSignals

    class FakeMesh:
        def attention(self, image: np.ndarray, box: Box) -> AttentionSignals:
            return AttentionSignals(ear=0.3, eyes_open=True, yaw=5.0, pitch=-2.0, looking_away=False)

    seen: list[Observation] = []
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, seen.append, min_hits=1,
                           attention=FakeMesh())
    proc.process(frame())
    assert seen[0].attention == AttentionSignals(ear=0.3, eyes_open=True, yaw=5.0, pitch=-2.0, looking_away=False)
    assert proc.latest[0].attention == seen[0].attention


def test_blink_tracking_counts_blinks_from_every_frame(fake_classifier: FakeClassifier) -> None:
    from engine.types import AttentionSignals

    class BlinkingMesh:
        """Eyes closed for 3 of every 30 frames (100 ms at 30 fps): one blink a second."""

        def __init__(self) -> None:
            self.frame = 0

        def attention(self, image: np.ndarray, box: Box) -> AttentionSignals:
            self.frame += 1
            ear = 0.08 if self.frame % 30 in (10, 11, 12) else 0.32
            return AttentionSignals(ear=ear, eyes_open=ear > 0.2, yaw=0.0, pitch=0.0, looking_away=False)

    clock, seen = Clock(), list[Observation]()
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, seen.append, min_hits=1,
                           attention=BlinkingMesh(), blinks=True, clock=clock)
    for i in range(30 * 6):  # six seconds at 30 fps
        clock.t = i / 30
        proc.process(frame())
    assert seen[-1].attention is not None and seen[-1].attention.blinks_per_minute == 5  # five blinks completed, over a 60 s window


def test_signals_of_lost_tracks_are_forgotten(fake_classifier: FakeClassifier) -> None:
    from engine.types import AttentionSignals

    class FakeMesh:
        def attention(self, image: np.ndarray, box: Box) -> AttentionSignals:
            return AttentionSignals(ear=0.3, eyes_open=True, yaw=0.0, pitch=0.0, looking_away=False)

    faces = [[Box(10 + 100 * (i // 15), 10, 60, 60)] for i in range(60)]  # a new face position every 15 frames
    proc = StreamProcessor(FakeDetector(faces), fake_classifier, min_hits=1, attention=FakeMesh(), blinks=True)
    for _ in range(60):
        proc.process(frame())
    assert set(proc._attention) <= {t.id for t in proc.tracker.tracks} and len(proc._blink_counters) <= 2


def test_schedule_keeps_one_analysis_per_interval_whatever_the_frame_rate(fake_classifier: FakeClassifier) -> None:
    # At 15 fps no frame lands exactly on a second; a gap-based rule would analyse every 1.067 s and lose ~6 %.
    clock, seen = Clock(), list[Observation]()
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, seen.append, clock=clock, min_hits=1)
    for i in range(15 * 30):  # 30 s
        clock.t = i / 15
        proc.process(frame())
    assert len(seen) == 30


def test_next_analysis_restarts_a_schedule_that_fell_behind() -> None:
    assert next_analysis(None, 5.0, 1.0) == 6.0
    assert next_analysis(6.0, 6.05, 1.0) == 7.0  # on schedule although this frame came late
    assert next_analysis(6.0, 9.5, 1.0) == 10.5  # a stalled stream does not burst to catch up


class StillFace(FakeDetector):
    """A face that does not move: full scans return its box; a region check finds it in the region's middle."""

    def detect(self, image: np.ndarray, size_range: tuple[int, int] | None = None):  # type: ignore[no-untyped-def]
        faces = super().detect(image, size_range)
        if size_range is None or not faces:
            return faces
        side = (size_range[0] + size_range[1]) // 2
        height, width = image.shape[:2]
        return [Face(Box((width - side) // 2, (height - side) // 2, side, side))]


def test_known_faces_are_followed_between_full_scans(fake_classifier: FakeClassifier) -> None:
    clock = Clock()
    detector = StillFace([Box(100, 60, 60, 60)])
    proc = StreamProcessor(detector, fake_classifier, clock=clock, min_hits=1, detect_interval=1.0,
                           follow_interval=0.15, rescan_interval=5.0)
    for i in range(100):  # 10 s at 10 fps
        clock.t = i / 10
        proc.process(frame())
    full = detector.calls - detector.sized_calls
    assert full == 2  # t=0 and t=5: the face was followed all along, so only the slow rescans ran
    assert 45 <= detector.sized_calls <= 50  # a follow every other frame
    assert [r.track_id for r in proc.latest] == [1]


def test_a_lost_face_brings_back_frequent_full_scans(fake_classifier: FakeClassifier) -> None:
    clock = Clock()
    detector = StillFace([[Box(100, 60, 60, 60)]] * 3 + [[]])  # the face leaves after three detections
    proc = StreamProcessor(detector, fake_classifier, clock=clock, min_hits=1, detect_interval=1.0,
                           follow_interval=0.0, rescan_interval=5.0)
    for i in range(50):  # 5 s at 10 fps
        clock.t = i / 10
        proc.process(frame())
    assert detector.calls - detector.sized_calls >= 4  # about one full scan a second once nothing is followed


def test_with_a_shared_worker_results_arrive_on_a_later_frame(fake_classifier: FakeClassifier) -> None:
    seen: list[Observation] = []
    stamps = iter(datetime(2026, 1, 1, 9, 0, s, tzinfo=UTC) for s in range(60))
    worker = AnalysisWorker(fake_classifier, None, gather_s=0.0)
    try:
        proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, seen.append, min_hits=1,
                               worker=worker, wallclock=lambda: next(stamps))
        proc.process(frame())  # the face falls due and is handed over; the callback does not wait
        deadline = time.monotonic() + 5
        while worker.stats.faces < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == []
        proc.process(frame())  # the delivered result is applied on the stream's next frame
    finally:
        worker.close()
    assert len(seen) == 1 and seen[0].timestamp == datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)  # the analysed frame's time
    assert proc.latest[0].prediction is not None and proc.latest[0].prediction.label == "Happy"


def test_a_result_from_before_close_does_not_land_on_a_new_track(fake_classifier: FakeClassifier) -> None:
    seen: list[Observation] = []

    class HeldWorker:  # hands nothing over until told, like a busy worker
        def __init__(self) -> None:
            self.jobs: list = []  # type: ignore[type-arg]

        def submit(self, job) -> bool:  # type: ignore[no-untyped-def]
            self.jobs.append(job)
            return True

    worker = HeldWorker()
    proc = StreamProcessor(FakeDetector([Box(10, 10, 60, 60)]), fake_classifier, seen.append, min_hits=1,
                           worker=worker)  # type: ignore[arg-type]
    proc.process(frame())
    proc.close()  # the student stopped; a new stream starts and its first track reuses id 1
    proc.process(frame())
    from engine.inference import analyse_jobs

    for job in worker.jobs[:1]:  # the old stream's result arrives late
        job.deliver(analyse_jobs([job], fake_classifier, None)[0])
    proc.process(frame())
    assert len(seen) == 1  # the analysed frame is still recorded
    assert proc.latest[0].prediction is None  # but the new track did not take the old prediction


def test_a_zero_detect_interval_scans_every_frame(fake_classifier: FakeClassifier) -> None:
    clock = Clock()
    detector = StillFace([Box(100, 60, 60, 60)])
    proc = StreamProcessor(detector, fake_classifier, clock=clock, min_hits=1, detect_interval=0.0,
                           follow_interval=0.25, rescan_interval=10.0)
    for i in range(20):
        clock.t = i / 10
        proc.process(frame())
    assert detector.calls == 20 and detector.sized_calls == 0


def test_a_stream_with_blazeface_follows_a_real_face_across_the_frame(fake_classifier: FakeClassifier,
                                                                      astronaut_bgr: np.ndarray) -> None:
    """The webcam detector end to end: full scans on the small copy, then region checks around the face."""
    import cv2

    from engine.detectors import make_detector

    head = cv2.resize(astronaut_bgr[0:300, 100:400], (400, 400))  # the face about 127 px wide at (103, 88)
    clock, seen = Clock(), list[Observation]()
    proc = StreamProcessor(make_detector("blazeface"), fake_classifier, seen.append, analysis_interval=0.5,
                           detect_width=240, detect_interval=1.0, clock=clock,
                           wallclock=lambda: datetime.fromtimestamp(clock.t, UTC))
    for i in range(40):  # 4 s at 10 fps, the head drifting 5 px a frame to the right
        clock.t = i * 0.1
        canvas = np.full((480, 640, 3), 90, np.uint8)
        canvas[40:440, 20 + 5 * i : 420 + 5 * i] = head
        proc.process(canvas)
    assert len(seen) >= 6 and {o.track_id for o in seen} == {1}  # one face, followed throughout
    for obs in seen:  # each record's box is on the face where it was in that frame
        shift = 5 * round(obs.timestamp.timestamp() * 10)
        assert obs.box.iou(Box(20 + shift + 103, 40 + 88, 127, 127)) > 0.5, (shift, obs.box)
