"""The join link a teacher shows (it opens the student page with the lesson's code filled in) and its QR code."""
from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit

import segno

JOIN_PATH = "/"  # the student page is the app's default page


def join_link(page_url: str | None, code: str) -> str:
    """The student page's address on the server the teacher is using, with the code as a query parameter."""
    parts = urlsplit(page_url or "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return f"{origin}{JOIN_PATH}?{urlencode({'code': code})}"


def qr_png(text: str, scale: int = 6) -> bytes:
    """A QR code of `text` as PNG bytes (error correction M, readable from the back of a classroom)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
