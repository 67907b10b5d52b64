"""Bad input to the command line and the image loader: one line, the right exit code, no traceback, bounded memory."""
import io
import resource
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from cli.analyze import main
from engine.media import MediaError, image_from_bytes


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height and carries almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def pil_bytes(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def face_like() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 100, 3), dtype=np.uint8))


def animated_gif() -> bytes:
    frames = [face_like(), face_like().rotate(90)]
    return pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def multipage_tiff() -> bytes:
    return pil_bytes(face_like(), "TIFF", save_all=True, append_images=[face_like()])


def png16() -> bytes:
    return cv2.imencode(".png", np.full((40, 50), 40000, np.uint16))[1].tobytes()


GOOD: dict[str, tuple[str, Callable[[], bytes]]] = {
    "cmyk-jpeg": ("photo.jpg", lambda: pil_bytes(face_like().convert("CMYK"), "JPEG")),
    "16-bit-png": ("deep.png", png16),
    "animated-gif": ("moving.gif", animated_gif),
    "multipage-tiff": ("pages.tiff", multipage_tiff),
    "png-named-jpg": ("wrong.jpg", lambda: pil_bytes(face_like(), "PNG")),
    "grey-bmp": ("grey.bmp", lambda: pil_bytes(face_like().convert("L"), "BMP")),
    "webp": ("photo.webp", lambda: pil_bytes(face_like(), "WEBP")),
    "unicode-path": ("schüler 😀.png", lambda: pil_bytes(face_like(), "PNG")),
    "space-path": ("my photo.png", lambda: pil_bytes(face_like(), "PNG")),
    "rgba-png": ("alpha.png", lambda: pil_bytes(face_like().convert("RGBA"), "PNG")),
    "palette-png": ("palette.png", lambda: pil_bytes(face_like().convert("P"), "PNG")),
    "one-bit-png": ("bits.png", lambda: pil_bytes(face_like().convert("1"), "PNG")),
    "grey-jpeg": ("grey.jpg", lambda: pil_bytes(face_like().convert("L"), "JPEG")),
}

BAD: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "empty-png": ("empty.png", lambda: b"", "empty"),
    "truncated-png": ("cut.png", lambda: pil_bytes(face_like(), "PNG")[:60], "OpenCV can read"),
    "truncated-jpeg": ("cut.jpg", lambda: pil_bytes(face_like(), "JPEG")[:30], "not an image"),
    "text-as-png": ("notes.png", lambda: b"hello, this is not a picture\n" * 20, "not an image"),
    "html-as-jpg": ("page.jpg", lambda: b"<html><body>hi</body></html>", "not an image"),
    "bomb-25000": ("bomb.png", lambda: png_header(25_000, 25_000), "limit"),
    "bomb-wide": ("wide.png", lambda: png_header(2_000_000, 1), "limit"),
    "header-above-opencv-limit": ("huge.png", lambda: png_header(70_000, 70_000), "limit"),
    "bomb-1x": ("tall.png", lambda: png_header(1, 40_000_000), "limit"),
    "zero-size-header": ("zero.png", lambda: png_header(0, 0), "not an image"),
    "text-as-mp4": ("lesson.mp4", lambda: b"not a video at all" * 100, "not a video"),
    "empty-mp4": ("empty.mp4", lambda: b"", "not a video"),
    "random-bytes": ("noise.png", lambda: np.random.default_rng(1).bytes(5000), "not an image"),
    "gzip-as-png": ("packed.png", lambda: zlib.compress(b"x" * 10_000), "not an image"),
    "truncated-gif": ("cut.gif", lambda: animated_gif()[:40], "not an image"),
    "truncated-tiff": ("cut.tiff", lambda: multipage_tiff()[:50], "not an image"),
    "truncated-webp": ("cut.webp", lambda: pil_bytes(face_like(), "WEBP")[:30], "image"),
    "pdf-as-png": ("doc.png", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "not an image"),
    "svg-as-png": ("drawing.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "not an image"),
    "zip-as-jpg": ("archive.jpg", lambda: b"PK\x03\x04" + bytes(100), "not an image"),
    "text-as-avi": ("lesson.avi", lambda: b"RIFF but not really" * 50, "not a video"),
}


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def models_env(tiny_models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENGAGE_MODELS_DIR", str(tiny_models_dir))
    return tiny_models_dir


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_one_line_and_exit_2(case: str, models_env: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    name, make, message = BAD[case]
    path = tmp_path / name
    path.write_bytes(make())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert main([str(path), "--no-progress"]) == 2
    assert message in one_error_line(capsys.readouterr().err)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000  # KiB: no bomb was decoded


@pytest.mark.parametrize("case", sorted(GOOD))
def test_unusual_but_valid_images_are_analysed(case: str, models_env: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    name, make = GOOD[case]
    path = tmp_path / name
    path.write_bytes(make())
    assert main([str(path), "--json"]) == 0, capsys.readouterr().err
    assert '"faces"' in capsys.readouterr().out


@pytest.mark.parametrize("argv_tail, message", [
    (["--rate", "nan"], "positive"), (["--rate", "inf"], "positive"), (["--rate", "-1"], "positive"),
    (["--rate", "0"], "positive"), (["--rate", "fast"], "not a number"), (["--detector", "yolo"], "invalid choice"),
    (["--db", "notaurl", "--session", "x"], "--db"), (["--db", "foo://", "--session", "x"], "--db"),
    (["--db", "mysql://u@h/x", "--session", "x"], "--db"),
    (["--db", "sqlite:////proc/no-such-dir/x.db", "--session", "x"], "--db"),
    (["--db", "postgresql+psycopg://u@127.0.0.1:1/x?connect_timeout=2", "--session", "x"], "--db"),
    (["--db", "sqlite://"], "go together"), (["--session", "x"], "go together"),
    (["--annotate", "out.png"], "for images"), (["--rate", ""], "not a number"), (["--rate", "1e309"], "positive"),
    (["--runtime", "onnx"], "invalid choice"), (["--db", "", "--session", "x"], "go together"),
    (["--db", "postgresql://", "--session", "x"], "--db"),
])
def test_bad_video_options_fail_before_any_frame(argv_tail: list[str], message: str, models_env: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"not decoded: the options fail first")
    assert main([str(video), *argv_tail]) == 2
    assert message in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("target, message", [
    ("out.xyz", "unknown image extension"), ("missing-folder/out.png", "does not exist"), ("out", "unknown image"),
])
def test_bad_annotate_targets_fail_before_the_analysis(target: str, message: str, models_env: Path, tmp_path: Path,
                                                        astronaut_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(astronaut_path), "--annotate", str(tmp_path / target)]) == 2
    assert message in one_error_line(capsys.readouterr().err)


def test_paths_that_are_not_files(models_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    for path, message in ((tmp_path / "folder.png", "not a file"), (tmp_path / "dangling.png", "no such file"),
                          (tmp_path / "missing.mp4", "no such file"), (tmp_path / "folder.png", "not a file")):
        assert main([str(path)]) == 2
        assert message in one_error_line(capsys.readouterr().err)


def test_the_photo_loader_refuses_a_bomb_before_decoding() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MediaError, match="limit"):
        image_from_bytes(png_header(25_000, 25_000), 40_000_000, "upload")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000
