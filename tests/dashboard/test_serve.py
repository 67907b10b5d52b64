"""dashboard.serve: the options it keeps, the cookie that pins a browser, and the balancer on real sockets."""
from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest

from dashboard import serve
from dashboard.serve import Balancer, cookie_instance, is_websocket, loopback_for, split_options, with_cookie


def test_the_balancer_keeps_port_address_and_tls_and_passes_the_rest_on() -> None:
    own, rest = split_options(["--server.port", "9000", "--server.address=0.0.0.0", "--theme.base", "dark",
                               "--server.sslCertFile", "c.pem", "--server.sslKeyFile=k.pem"])
    assert own == {"--server.port": "9000", "--server.address": "0.0.0.0", "--server.sslCertFile": "c.pem",
                   "--server.sslKeyFile": "k.pem"}
    assert rest == ["--theme.base", "dark"]
    assert split_options([])[0]["--server.port"] == "8501"  # Streamlit's own default
    with pytest.raises(SystemExit, match="needs a value"):
        split_options(["--server.port"])


def test_the_cookie_names_an_instance_only_if_it_exists() -> None:
    head = b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; engage_instance=1; b=2\r\n\r\n"
    assert cookie_instance(head, 2) == 1
    assert cookie_instance(head, 1) is None  # from a layout with more instances
    assert cookie_instance(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2) is None
    assert cookie_instance(b"GET / HTTP/1.1\r\ncookie: engage_instance=x\r\n\r\n", 2) is None


def test_the_first_response_gets_the_cookie_before_its_blank_line() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    out = with_cookie(head, 1)
    assert out.startswith(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: engage_instance=1; Path=/")
    assert out.endswith(b"\r\n\r\n") and out.count(b"\r\n\r\n") == 1


def test_a_websocket_upgrade_is_told_from_a_plain_request() -> None:
    assert is_websocket(b"GET /_stcore/stream HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    assert not is_websocket(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n")


async def backend(name: bytes) -> tuple[asyncio.Server, int]:
    """A stand-in instance: answers each request head with its name; an upgrade stays open and echoes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if b"Upgrade: websocket" in head:
                    writer.write(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
                    while data := await reader.read(100):
                        writer.write(name + b":" + data)
                    break
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(name), name))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def request(port: int, head: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    response_head = await reader.readuntil(b"\r\n\r\n")
    length = int(response_head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    body = await reader.readexactly(length)
    writer.close()
    return response_head, body


def test_browsers_are_pinned_and_new_ones_go_to_the_instance_with_fewer_sessions() -> None:
    async def scenario() -> None:
        (a, port_a), (b, port_b) = await backend(b"A"), await backend(b"B")
        balancer = Balancer([port_a, port_b])
        front = await asyncio.start_server(balancer.handle, "127.0.0.1", 0)
        port = front.sockets[0].getsockname()[1]

        head, body = await request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # a new browser: both idle, the first
        assert body == b"A" and b"Set-Cookie: engage_instance=0" in head
        head, body = await request(port, b"GET /x HTTP/1.1\r\nCookie: engage_instance=1\r\n\r\n")  # pinned to B
        assert body == b"B" and b"Set-Cookie" not in head

        # a session (websocket) opens on A: the next new browser goes to B; bytes pass both ways unchanged
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /_stcore/stream HTTP/1.1\r\nCookie: engage_instance=0\r\nUpgrade: websocket\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        writer.write(b"ping")
        assert await reader.readexactly(6) == b"A:ping"
        assert balancer.sessions == [1, 0]
        head, body = await request(port, b"GET / HTTP/1.1\r\n\r\n")
        assert body == b"B" and b"Set-Cookie: engage_instance=1" in head
        writer.close()
        for _ in range(100):  # the closed session is counted off
            if balancer.sessions == [0, 0]:
                break
            await asyncio.sleep(0.01)
        assert balancer.sessions == [0, 0]

        a.close()  # an instance that refuses connections: a clear 502, not a hang
        await a.wait_closed()
        head, _ = await request(port, b"GET / HTTP/1.1\r\nCookie: engage_instance=0\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 502")
        front.close()
        b.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_each_client_reaches_its_instance_from_a_loopback_address_of_its_own() -> None:
    assert loopback_for("127.0.0.5") == "127.0.0.5" and loopback_for("::1") is None  # a local client: its own
    a, b = loopback_for("192.168.1.20"), loopback_for("192.168.1.21")
    assert a is not None and b is not None and a != b and a == loopback_for("192.168.1.20")
    c = loopback_for("2001:db8::7")
    assert c is not None and all(ipaddress.ip_address(x).is_loopback for x in (a, b, c))

    async def scenario() -> None:
        seen: list[str] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("peername")[0])
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            writer.close()

        upstream = await asyncio.start_server(handle, "127.0.0.1", 0)
        balancer = Balancer([upstream.sockets[0].getsockname()[1]])
        front = await asyncio.start_server(balancer.handle, "127.0.0.1", 0)
        port = front.sockets[0].getsockname()[1]
        for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):  # three local clients keep their addresses
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            await reader.readuntil(b"\r\n\r\n")
            writer.close()
        assert seen == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        # a remote client is seen as its own 127.x.y.z (here the mapping is forced on a loopback client)
        original = serve.loopback_for
        serve.loopback_for = lambda client: "127.9.8.7"  # type: ignore[assignment]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            await reader.readuntil(b"\r\n\r\n")
            writer.close()
        finally:
            serve.loopback_for = original
        assert seen[-1] == "127.9.8.7"
        front.close()
        upstream.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for localhost, as the README's openssl command makes one."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_two_real_instances_serve_https_behind_the_balancer(tmp_path: Path, tiny_models_dir: Path) -> None:
    """The README's HTTPS command with ENGAGE_INSTANCES=2: the balancer terminates TLS and pins the browser; the
    database was prepared once before the instances started."""
    import os
    import ssl
    import subprocess
    import sys
    import time
    import urllib.request

    from sqlalchemy import create_engine, inspect

    from tests.browser.harness.run import free_port

    cert, key = self_signed(tmp_path)
    port, url = free_port(), f"sqlite:///{tmp_path / 'engage.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env.update(ENGAGE_INSTANCES="2", ENGAGE_DATABASE_URL=url, ENGAGE_MODELS_DIR=str(tiny_models_dir),
               ENGAGE_ADMIN_USERNAME="root", ENGAGE_ADMIN_PASSWORD="a long admin password")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.port", str(port),
                             "--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline, response = time.monotonic() + 240, None
        while response is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                response = urllib.request.urlopen(f"https://localhost:{port}/_stcore/health", timeout=5, context=context)
            except OSError:
                time.sleep(1)
        assert response is not None, (tmp_path / "serve.log").read_text()[-3000:]
        assert response.read() == b"ok"
        assert any(c.startswith("engage_instance=0;") for c in response.headers.get_all("Set-Cookie"))
        with pytest.raises(OSError):  # plain HTTP on the HTTPS port is refused
            urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=5)
        import http.client
        from urllib.parse import urlencode

        sign_in = http.client.HTTPSConnection("localhost", port, timeout=30, context=context)
        sign_in.request("POST", "/auth/sign-in", urlencode({"username": "root", "password": "a long admin password",
                                                            "next": "/admin"}),
                        {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://localhost:{port}"})
        answer = sign_in.getresponse()
        staff = [c for c in answer.headers.get_all("Set-Cookie") or [] if c.startswith("engage_staff=")]
        assert answer.status == 303 and answer.getheader("Location") == "/admin"
        assert len(staff) == 1 and "Secure" in staff[0] and "HttpOnly" in staff[0]  # TLS ends at the balancer
        sign_in.close()
        engine = create_engine(url)
        assert "users" in inspect(engine).get_table_names()  # made by the balancer before the instances started
        engine.dispose()
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0  # a clean stop: both instances stopped with it
        log.close()
    assert "2 instances ready behind https://localhost:" in (tmp_path / "serve.log").read_text()
