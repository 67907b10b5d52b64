"""Starts the app: one Streamlit process, or several behind a sticky balancer on the same port (ENGAGE_INSTANCES).

python -m dashboard.serve [streamlit run options ...]      (what scripts/run.sh runs)

One app process uses at most about 1.6 of two cores: its threads take turns on one Python interpreter (README,
Capacity: `python -m benchmarks.capacity --processes 2`). With ENGAGE_INSTANCES=N (N > 1) this starts N Streamlit
processes on local ports and listens on the public port itself; ENGAGE_INSTANCES=0, the default, starts one per usable
CPU core (at most 8), so a one-core machine runs the plain app. Each browser is pinned to one instance by a cookie
(`engage_instance`) set on its first response; a browser without one goes to the instance with the fewest open
Streamlit sessions (websockets). Pinning matters because a student's Streamlit session, its WebRTC connection, its
uploads and the pictures a page shows all live in one process. The balancer works on bytes, not HTTP messages: it
reads a connection's first request head to choose, then passes everything through unchanged (websockets included),
adding only the cookie to the first response. The media itself goes over UDP straight to the instance's aiortc.
All instances share the database (SQLite in WAL mode, or PostgreSQL) and one cookie secret, so any of them accepts
the browser's XSRF cookie; the tables and the first admin are made once, before the instances start. Each client's
connections reach its instance from a loopback address of their own (127.x.y.z, derived from the client's address),
so what the app keys on the client's address (the join-code throttle) stays per client behind the balancer, and a
client's own X-Forwarded-For is not believed (uvicorn trusts it only from 127.0.0.1 and ::1).
HTTPS (--server.sslCertFile/--server.sslKeyFile) is served by the balancer. If an instance exits, the balancer
stops the others and exits: a half-working server would strand students.
"""
from __future__ import annotations

import asyncio
import errno
import hashlib
import ipaddress
import logging
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from settings import Settings, SettingsError

log = logging.getLogger("dashboard.serve")
REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "asgi.py"  # the pages (dashboard/app.py) and the sign-in route
COOKIE = "engage_instance"
BASE_ARGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
OWN_OPTIONS = {"--server.port": "8501", "--server.address": "", "--server.sslCertFile": "", "--server.sslKeyFile": ""}
MAX_HEAD = 64 * 1024  # a request or response head larger than this is refused


def split_options(args: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The options the balancer serves itself (port, address, TLS) and the rest, which every instance gets.
    Both `--opt value` and `--opt=value` are understood."""
    own, rest, i = dict(OWN_OPTIONS), [], 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name in OWN_OPTIONS:
            if not eq:
                if i + 1 >= len(args):
                    raise SystemExit(f"{name} needs a value")
                value, i = args[i + 1], i + 1
            own[name] = value
        else:
            rest.append(args[i])
        i += 1
    return own, rest


def cookie_instance(head: bytes, instances: int) -> int | None:
    """The instance a request's `engage_instance` cookie names, or None (no cookie, or one from another layout)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() != b"cookie":
            continue
        for part in value.split(b";"):
            key, _, number = part.strip().partition(b"=")
            if key == COOKIE.encode() and number.isdigit() and int(number) < instances:
                return int(number)
    return None


def with_cookie(head: bytes, instance: int) -> bytes:
    """A response head with the cookie that pins the browser to `instance` (for the browser's session only)."""
    cookie = f"Set-Cookie: {COOKIE}={instance}; Path=/; HttpOnly; SameSite=Lax\r\n".encode()
    return head[:-2] + cookie + b"\r\n"  # before the blank line that ends the head


def loopback_for(client: str) -> str | None:
    """The loopback address a client's connections come from upstream: stable per client, spread over 127.0.0.0/8
    (Linux answers on all of it), so the instance sees one address per client, not the balancer's. A client on this
    machine keeps its own address (None for ::1 and anything unparsable: the default source)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    if address.is_loopback:
        return client if address.version == 4 else None
    h = hashlib.sha256(address.packed).digest()
    return f"127.{1 + h[0] % 254}.{h[1]}.{1 + h[2] % 254}"


def is_websocket(head: bytes) -> bool:
    return any(line.lower().replace(b" ", b"") == b"upgrade:websocket" for line in head.split(b"\r\n")[1:])


@dataclass
class Balancer:
    """Passes each browser's connections to the instance its cookie names, a new browser to the least busy one."""

    ports: list[int]
    host: str = "127.0.0.1"
    sessions: list[int] = field(init=False)  # open websockets (Streamlit sessions) per instance
    per_client_source: bool = field(default=True, init=False)  # False once binding a 127.x.y.z source failed (not Linux)

    def __post_init__(self) -> None:
        self.sessions = [0] * len(self.ports)

    async def connect(self, instance: int, client: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the instance, from the client's own loopback address where the system allows it."""
        source = loopback_for(client) if self.per_client_source else None
        if source is not None:
            try:
                return await asyncio.open_connection(self.host, self.ports[instance], limit=MAX_HEAD,
                                                     local_addr=(source, 0))
            except OSError as exc:
                if exc.errno not in (errno.EADDRNOTAVAIL, errno.EINVAL):
                    raise
                self.per_client_source = False
                log.warning("cannot connect from %s (%s): the app sees every client as this machine, so the "
                            "join-code throttle is shared by all clients", source, exc)
        return await asyncio.open_connection(self.host, self.ports[instance], limit=MAX_HEAD)

    def choose(self, head: bytes) -> tuple[int, bool]:
        """The instance for this request, and whether it is a new choice (the response then sets the cookie)."""
        pinned = cookie_instance(head, len(self.ports))
        if pinned is not None:
            return pinned, False
        return min(range(len(self.ports)), key=lambda i: (self.sessions[i], i)), True

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        instance, new = self.choose(head)
        try:
            peer = writer.get_extra_info("peername")
            up_reader, up_writer = await self.connect(instance, peer[0] if peer else "")
        except OSError as exc:
            log.warning("instance %d refused a connection: %s", instance, exc)
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            writer.close()
            return
        session = is_websocket(head)
        self.sessions[instance] += session
        try:
            up_writer.write(head)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer, instance if new else None))
        finally:
            self.sessions[instance] -= session
            for w in (writer, up_writer):
                w.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cookie_for: int | None = None) -> None:
    """Copy bytes until the reader ends; with `cookie_for`, the first response head gets the pinning cookie."""
    try:
        if cookie_for is not None:
            writer.write(with_cookie(await reader.readuntil(b"\r\n\r\n"), cookie_for))
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):  # resets included
        writer.close()


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_instances(ports: list[int], args: list[str], https: bool = False) -> list[subprocess.Popen[bytes]]:
    secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)  # one for all instances
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secret}  # Streamlit takes it from there, not the command line
    if https:  # the instances see plain HTTP from the balancer; the browser sees HTTPS: sign-in cookies are Secure
        env["ENGAGE_SECURE_COOKIES"] = "true"
    # no welcome message: its URL is the instance's local port, which a user must not open (the balancer logs the URL)
    return [subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), *BASE_ARGS, "--server.port", str(port),
                              "--server.address", "127.0.0.1", "--logger.hideWelcomeMessage", "true", *args],
                             cwd=REPO, env=env)
            for port in ports]


def wait_healthy(ports: list[int], procs: list[subprocess.Popen[bytes]], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    for port, proc in zip(ports, procs):
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"an instance exited with {proc.returncode} while starting")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"an instance did not become healthy within {timeout:.0f} s")
            time.sleep(0.5)


async def balance(own: dict[str, str], ports: list[int], procs: list[subprocess.Popen[bytes]]) -> int:
    context = None
    if own["--server.sslCertFile"] or own["--server.sslKeyFile"]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(own["--server.sslCertFile"], own["--server.sslKeyFile"])
    balancer = Balancer(ports)
    server = await asyncio.start_server(balancer.handle, own["--server.address"] or None, int(own["--server.port"]),
                                        ssl=context, limit=MAX_HEAD)
    scheme = "https" if context else "http"
    log.info("%d instances ready behind %s://%s:%s", len(ports), scheme, own["--server.address"] or "localhost",
             own["--server.port"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        while not stop.is_set():
            exited = [p for p in procs if p.poll() is not None]
            if exited:
                log.error("an instance exited with %s; stopping the others", exited[0].returncode)
                return 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
    return 0


def prepare(settings: Settings) -> str | None:
    """The WebRTC patches' fit to the installed libraries, then tables, the first admin and retention, once here
    (so instances do not race to create the same tables); the reason in one line if anything cannot be used."""
    from dashboard.webrtc.internals import InternalsChanged, check
    from db.session import DatabaseUnavailable
    from db.startup import StartupError, prepare_database

    try:
        check()
    except InternalsChanged as exc:
        return str(exc)
    try:
        engine, _ = prepare_database(settings.resolved_database_url, settings.admin_username, settings.admin_password,
                                     settings.retention_days)
    except (StartupError, DatabaseUnavailable) as exc:
        return str(exc)
    engine.dispose()
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = prepare(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    instances = settings.app_instances
    if instances <= 1:  # the plain app, exactly as before
        os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(APP), *BASE_ARGS, *args])
    own, rest = split_options(args)
    ports = free_ports(instances)
    procs = start_instances(ports, rest, https=bool(own["--server.sslCertFile"]))
    try:
        wait_healthy(ports, procs)
        return asyncio.run(balance(own, ports, procs))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
