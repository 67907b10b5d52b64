"""Background threads that yield the CPU to live work: the shared analysis and scan workers.

A classroom server runs every student's video path (decoding, the frame callback, encoding the picture sent back)
next to two workers whose results may come a little later: the analysis of due faces (once a second per face) and
full-frame scans. When the two cores are busy, Linux shares them out evenly between runnable threads, so a worker in
the middle of a model call or a 30 ms scan delays the frame callbacks it shares a core with. A worker started with
`nice` > 0 runs at that much lower priority (Linux keeps a nice value per thread): it still gets the CPU the live
path leaves, and on a busy machine the live path goes first. Elsewhere than on Linux this changes nothing.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
MAX_NICE = 19


def lower_priority(nice: int) -> int | None:
    """Lower the calling thread's priority by `nice` (clamped at 19); its new nice value, or None when unchanged
    (nice <= 0, not Linux, or refused)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()  # on Linux a thread's id is a task id that setpriority accepts
    try:
        target = min(os.getpriority(os.PRIO_PROCESS, tid) + nice, MAX_NICE)
        os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError as exc:
        log.warning("could not lower the priority of thread %s: %s", threading.current_thread().name, exc)
        return None
    return target


def background_thread(target: Callable[[], object], name: str, nice: int = 0) -> threading.Thread:
    """A started daemon thread that lowers its own priority by `nice` and runs `target`."""

    def run() -> None:
        lower_priority(nice)
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
