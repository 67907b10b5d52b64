"""Helpers for running instances on this machine: free local ports and waiting for a health check."""
from __future__ import annotations

import socket
import time
import urllib.request


def free_ports(count: int) -> list[int]:
    """`count` TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers 200 (any certificate: our own, possibly self-signed)."""
    import ssl

    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ssl._create_unverified_context()) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(url: str, timeout: float = 120.0) -> bool:
    """Whether `url` answered 200 within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def closed_by_peer(sock: socket.socket, timeout: float = 2.0) -> bool:
    """True once the other side has closed the connection (an answer such as 408 may come first); False when it
    is still open after `timeout` seconds of silence."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except OSError:
        return False
