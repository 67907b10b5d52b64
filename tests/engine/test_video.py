"""Reading recordings with PyAV: frames at the rate asked for, on the video's clock, and clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.galleries import GallerySpec, write_gallery
from engine.media import MediaError
from engine.video import VideoReader


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = GallerySpec("small", 1, 2, 4.0, width=640, height=360, fps=25)
    return write_gallery(tmp_path_factory.mktemp("video") / "small.mp4", spec)


def test_container_facts(gallery: Path) -> None:
    with VideoReader(gallery) as reader:
        info = reader.info
    assert (info.width, info.height, info.fps, info.frames) == (640, 360, 25.0, 100)
    assert info.seconds == pytest.approx(4.0, abs=0.05)


def test_samples_come_at_the_rate_asked_for(gallery: Path) -> None:
    decoded: list[float] = []
    with VideoReader(gallery) as reader:
        samples = list(reader.sample(0.5, decoded.append))
    times = [t for t, _ in samples]
    assert len(times) == 8
    for i, t in enumerate(times):  # the first frame decoded at or after each half second (at most a few frames late)
        assert 0.5 * i - 1e-6 <= t < 0.5 * i + 0.2
    assert all(frame.shape == (360, 640, 3) for _, frame in samples)
    assert 50 <= len(decoded) <= 100  # B-frames between looks need not be decoded
    assert decoded == sorted(decoded)


def test_every_frame_when_asked_and_decode_only_counts_them_all(gallery: Path) -> None:
    with VideoReader(gallery) as reader:
        assert len(list(reader.sample(0.0))) == 100
    with VideoReader(gallery) as reader:
        assert reader.decode_only() == 100


def test_stopping_early_releases_the_decoder(gallery: Path) -> None:
    import threading

    with VideoReader(gallery) as reader:
        frames = reader.sample(0.0, ahead=1)
        for i, _ in enumerate(frames):
            if i == 3:
                break  # the decoding thread is waiting on a full queue: it must end
        frames.close()  # what dropping the generator does
        assert not [t for t in threading.enumerate() if t.name == "video-decode"]


def test_closing_the_reader_mid_walk_stops_its_decoder_first(gallery: Path) -> None:
    """An analysis that fails or is cancelled part-way leaves its walk open while the reader closes."""
    import threading

    frames = []
    with VideoReader(gallery) as reader:
        walk = reader.sample(0.0, ahead=1)
        frames.append(next(walk))
    assert not [t for t in threading.enumerate() if t.name == "video-decode"]
    assert list(walk) == []  # the walk has ended; nothing reads the closed file


def test_an_upload_held_in_memory_reads_like_its_file(gallery: Path) -> None:
    import io

    with VideoReader(io.BytesIO(gallery.read_bytes()), "lesson.mp4") as reader:
        assert reader.info.frames == 100 and reader.path == Path("lesson.mp4")
        assert len(list(reader.sample(0.5))) == 8
    with pytest.raises(MediaError, match="^lesson.mp4: not a video"):
        VideoReader(io.BytesIO(b"plain text" * 100), "lesson.mp4")


def test_the_recording_time_comes_from_the_container_where_it_says(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import av
    import numpy as np

    for stamp, expected in [("2026-03-02T09:05:00.000000Z", datetime(2026, 3, 2, 9, 5, tzinfo=UTC)),
                            ("1970-01-01T00:00:00.000000Z", None), ("", None)]:
        path = tmp_path / "stamped.mp4"
        with av.open(str(path), "w") as out:
            if stamp:
                out.metadata["creation_time"] = stamp
            stream = out.add_stream("mpeg4", rate=5)
            stream.width, stream.height = 64, 48
            for _ in range(5):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")))
            out.mux(stream.encode())
        with VideoReader(path) as reader:
            assert reader.info.created == expected, stamp


@pytest.mark.parametrize("content, message", [(b"", "not a video"), (b"plain text, no video" * 40, "not a video")])
def test_files_that_are_not_videos(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message):
        VideoReader(path)


def test_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        VideoReader(tmp_path / "gone.mp4")
    with pytest.raises(MediaError, match="not a file"):
        VideoReader(tmp_path)


def test_a_damaged_stretch_is_skipped_not_fatal(gallery: Path, tmp_path: Path) -> None:
    data = bytearray(gallery.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = bytes(4000)  # zeroed bytes in the middle of the stream
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with VideoReader(damaged) as reader:
        samples = list(reader.sample(0.5))
    assert len(samples) >= 6
