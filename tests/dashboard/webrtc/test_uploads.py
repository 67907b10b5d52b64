"""Uploads are parsed in memory: a photo or a recorded lesson never lands in a temporary file on disk."""
from __future__ import annotations

import asyncio

from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from dashboard.webrtc.uploads import keep_uploads_in_memory


def parse_upload(size: int) -> object:
    """The file part of a real multipart request body of `size` bytes, as Starlette parses it."""
    boundary = "----engage"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lesson.mp4\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode() + b"\x01" * size + f"\r\n--{boundary}--\r\n".encode()
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": chunks.pop(0) if chunks else b"", "more_body": bool(chunks)}

    scope = {"type": "http", "method": "POST", "headers": [
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}

    async def parse() -> object:
        form = await Request(scope, receive).form()
        upload = form["file"]
        return upload.file  # type: ignore[union-attr]

    return asyncio.run(parse())


def test_an_upload_larger_than_starlettes_spool_stays_in_memory(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 2**20)  # Starlette's own (restored afterwards)
    assert parse_upload(3 * 2**20)._rolled  # type: ignore[attr-defined]  # on disk
    keep_uploads_in_memory()
    spooled = parse_upload(3 * 2**20)
    assert not spooled._rolled and len(spooled._file.getvalue()) == 3 * 2**20  # type: ignore[attr-defined]
