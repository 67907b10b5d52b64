"""Uploads stay in memory. Starlette (Streamlit's web server) parses an upload into a `SpooledTemporaryFile` that
moves to a temporary file on disk once it passes `MultiPartParser.spool_max_size` (1 MB). Photos and recorded lessons
must never touch the disk, so the threshold is raised beyond any upload Streamlit accepts: Streamlit refuses a body
larger than `server.maxUploadSize` while it arrives, before the parser could hold it."""
from __future__ import annotations

NEVER = 2**62  # bytes: no upload Streamlit accepts comes near


def keep_uploads_in_memory() -> None:
    from starlette.formparsers import MultiPartParser

    MultiPartParser.spool_max_size = NEVER
