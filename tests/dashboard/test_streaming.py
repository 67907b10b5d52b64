from fractions import Fraction

import av
import numpy as np

from dashboard.streaming import StreamEnd, frame_callback, from_bgr, to_bgr
from engine.stream import StreamProcessor
from engine.types import Box
from tests.conftest import FakeClassifier, FakeDetector


def webrtc_frame(image: np.ndarray) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")  # as the VP8 decoder delivers
    frame.pts, frame.time_base = 1234, Fraction(1, 90000)
    return frame


def test_i420_conversions_round_trip(astronaut_bgr: np.ndarray) -> None:
    image = np.ascontiguousarray(astronaut_bgr[:240, :320])
    back = to_bgr(from_bgr(image))
    assert from_bgr(image).format.name == "yuv420p"
    assert np.abs(back.astype(int) - image).mean() < 4  # chroma subsampling loses a little colour detail


def test_odd_sized_frames_fall_back_to_bgr() -> None:
    image = np.full((241, 321, 3), 77, np.uint8)
    frame = from_bgr(image)
    assert frame.format.name == "bgr24" and to_bgr(frame).shape == image.shape


def test_the_callback_returns_the_students_own_frame_when_nothing_is_drawn() -> None:
    processor = StreamProcessor(FakeDetector([]), None)
    incoming = webrtc_frame(np.full((240, 320, 3), 90, np.uint8))
    assert frame_callback(processor)(incoming) is incoming


def test_the_callback_returns_an_annotated_i420_frame_with_the_same_timing(fake_classifier: FakeClassifier) -> None:
    processor = StreamProcessor(FakeDetector([Box(100, 60, 80, 80)]), fake_classifier, min_hits=1)
    incoming = webrtc_frame(np.full((240, 320, 3), 90, np.uint8))
    out = frame_callback(processor)(incoming)
    assert out is not incoming and out.format.name == "yuv420p"
    assert (out.pts, out.time_base) == (1234, Fraction(1, 90000))
    assert not np.array_equal(to_bgr(out), to_bgr(incoming))  # the box was drawn


def test_the_returned_video_bitrate_is_capped_and_can_be_restored() -> None:
    from aiortc.codecs.vpx import Vp8Encoder

    from dashboard.webrtc.return_video import cap_return_bitrate

    try:
        cap_return_bitrate(300)
        encoder = Vp8Encoder()
        assert encoder.target_bitrate == 300_000
        encoder.target_bitrate = 1_500_000  # what a browser's bandwidth estimate (REMB) asks for on a LAN
        assert encoder.target_bitrate == 300_000
        encoder.target_bitrate = 100_000  # congestion may still lower it
        assert encoder.target_bitrate == 250_000  # aiortc's own floor, below the cap
        cap_return_bitrate(150)
        assert Vp8Encoder().target_bitrate == 150_000
    finally:
        cap_return_bitrate(0)
    encoder = Vp8Encoder()
    encoder.target_bitrate = 1_500_000
    assert Vp8Encoder().target_bitrate == 500_000 and encoder.target_bitrate == 1_500_000  # aiortc's own again


def test_the_returned_video_is_encoded_without_the_denoiser_unless_asked() -> None:
    from aiortc.codecs import vpx

    from dashboard.webrtc.return_video import denoise_return_video

    picture = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 120, np.uint8), format="bgr24")
    picture.pts, picture.time_base = 0, Fraction(1, 90000)
    try:
        denoise_return_video(False)
        context = vpx.av.CodecContext.create("libvpx", "w")  # as aiortc's Vp8Encoder creates and configures one
        context.options = {"noise-sensitivity": "4", "deadline": "realtime"}
        assert context.options == {"noise-sensitivity": "0", "deadline": "realtime"}
        assert type(vpx.Vp8Decoder().codec).__module__.startswith("av.")  # decoders are PyAV's own
        payloads, _timestamp = vpx.Vp8Encoder().encode(picture)  # and aiortc's encoder still works through it
        assert payloads
    finally:
        denoise_return_video(True)
    assert vpx.av is av  # aiortc's own again


def test_a_late_sender_gets_the_newest_processed_frame_and_the_queue_can_be_restored() -> None:
    import asyncio

    from aiortc.contrib.media import MediaRelay
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncVideoProcessTrack, VideoProcessTrack

    from dashboard.webrtc.return_video import PROCESS_TRACKS_MODULE, send_newest_frames
    from tests.dashboard.cameras import counting_camera

    assert AsyncVideoProcessTrack.__module__ == VideoProcessTrack.__module__ == PROCESS_TRACKS_MODULE

    async def two_frames_with_a_slow_sender() -> tuple[int, int, int]:
        camera = counting_camera(0.005)
        processed = VideoProcessTrack(track=camera, processor=CallbackAttachableProcessor(lambda f: f, None, None))
        sender_side = MediaRelay().subscribe(processed)  # as streamlit-webrtc hands the processed track to aiortc
        first = await sender_side.recv()
        await asyncio.sleep(0.1)  # the sender is busy while the camera goes on
        second, produced = await sender_side.recv(), camera.count
        sender_side.stop()
        return int(first.pts or 0), int(second.pts or 0), produced

    try:
        send_newest_frames(True)
        first, second, produced = asyncio.run(two_frames_with_a_slow_sender())
        assert second > first + 1 and second >= produced - 1  # the frames in between were skipped
    finally:
        send_newest_frames(False)
    first, second, _produced = asyncio.run(two_frames_with_a_slow_sender())
    assert second == first + 1  # aiortc's own relay queues every frame


def test_once_the_lesson_has_ended_frames_go_back_untouched_and_the_stream_is_closed_once(
        fake_classifier: FakeClassifier) -> None:
    processor = StreamProcessor(FakeDetector([Box(100, 60, 80, 80)]), fake_classifier, min_hits=1)
    ended, closed = [False], []
    callback = frame_callback(processor, StreamEnd(lambda: ended[0], lambda: closed.append(1)))
    incoming = webrtc_frame(np.full((240, 320, 3), 90, np.uint8))
    assert callback(incoming) is not incoming  # analysed and drawn
    ended[0] = True
    frames = processor.stats.frames
    assert all(callback(incoming) is incoming for _ in range(5))
    assert processor.stats.frames == frames and closed == [1]


def test_a_failing_close_still_ends_the_stream() -> None:
    def fail() -> None:
        raise RuntimeError("connection already gone")

    end = StreamEnd(lambda: True, fail)
    assert end() and end() and end.done
