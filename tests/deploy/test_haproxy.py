"""The generated HAProxy configuration, checked by HAProxy itself and run in front of two real app instances."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from deploy.haproxy import COOKIE, ProxyPlan, Server, main, render
from deploy.local import closed_by_peer, free_ports, wait_healthy
from tests.conftest import REPO

PER_CLIENT = 220  # the fixture's limit of open connections per client address
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
needs_haproxy = pytest.mark.skipif(not Path(HAPROXY).exists(),
                                   reason="DEPLOY TESTS SKIPPED: HAProxy is not installed (scripts/test.sh installs it as root)")


def plan(**kwargs: object) -> ProxyPlan:
    return ProxyPlan((Server("127.0.0.1", 8601), Server("10.0.0.2", 8501)), **kwargs)  # type: ignore[arg-type]


def test_the_configuration_pins_browsers_checks_health_and_limits_clients() -> None:
    text = render(plan())
    for line in ("balance leastconn", f"cookie {COOKIE} insert indirect nocache httponly attr SameSite=Lax",
                 "option httpchk GET /_stcore/health", "option redispatch", "option forwardfor",
                 "timeout http-request 5s", "timeout tunnel 3600s", "maxconn 4000",
                 "tcp-request connection reject if { sc0_conn_cur gt 64 }",
                 "server app1 127.0.0.1:8601 cookie app1 check", "server app2 10.0.0.2:8501 cookie app2 check",
                 "http-request set-header X-Forwarded-Proto http", "bind *:8501\n"):
        assert line in text, line


def test_https_terminates_at_the_proxy_with_secure_cookies(tmp_path: Path) -> None:
    text = render(plan(certificate=tmp_path / "classroom.pem", port=443))
    assert f"bind *:443 ssl crt {tmp_path / 'classroom.pem'}" in text
    assert "httponly secure" in text and "X-Forwarded-Proto https" in text


@pytest.mark.parametrize("bad", ["nohost", ":80", "host:", "host:99999", "ho st:80", "a;b:80"])
def test_bad_servers_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--server", bad]) == 2
    assert "error:" in capsys.readouterr().err


def test_no_servers_or_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ProxyPlan(())
    with pytest.raises(ValueError, match="positive"):
        plan(per_client=0)


@needs_haproxy
def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    for variant in (plan(), plan(certificate=Path("/etc/ssl/dummy.pem"))):
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(render(variant))
        checked = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
        if variant.certificate is None:
            assert checked.returncode == 0, checked.stdout + checked.stderr
        else:  # the syntax is right; only the missing certificate file is reported
            assert "dummy.pem" in checked.stdout + checked.stderr


def wait_for(url: str, timeout: float = 120.0) -> None:
    assert wait_healthy(url, timeout), f"{url} did not answer within {timeout:.0f} s"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """Two real app instances (one database) behind HAProxy on this machine."""
    if not Path(HAPROXY).exists():
        pytest.skip("DEPLOY TESTS SKIPPED: HAProxy is not installed (scripts/test.sh installs it as root)")
    tmp = tmp_path_factory.mktemp("deploy")
    proxy_port, *ports = free_ports(3)
    env = {**os.environ, "ENGAGE_DATABASE_URL": f"sqlite:///{tmp / 'app.db'}", "ENGAGE_DATA_DIR": str(tmp),
           "STREAMLIT_SERVER_COOKIE_SECRET": "x" * 64, "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    apps = [subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "asgi.py"),
                              "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                              "--browser.gatherUsageStats", "false"], cwd=REPO, env=env,
                             stdout=open(tmp / f"app{i}.log", "wb"), stderr=subprocess.STDOUT)
            for i, port in enumerate(ports, 1)]
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(render(ProxyPlan(tuple(Server("127.0.0.1", p) for p in ports), "127.0.0.1", proxy_port,
                                    check_every_s=1, per_client=PER_CLIENT)))
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for port in ports:  # the instances first: HAProxy counts a server as up from its start
            wait_for(f"http://127.0.0.1:{port}/_stcore/health")
        proxy = subprocess.Popen([HAPROXY, "-f", str(cfg), "-db"], stdout=open(tmp / "haproxy.log", "wb"),
                                 stderr=subprocess.STDOUT)
        wait_for(f"http://127.0.0.1:{proxy_port}/_stcore/health")
        yield f"http://127.0.0.1:{proxy_port}", apps
    finally:
        processes = [p for p in (proxy, *apps) if p is not None]
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def instance_of(response: httpx.Response) -> str:
    return response.headers["x-engage-instance"]


def open_page(url: str, cookie: str | None = None) -> tuple[socket.socket, str, str]:
    """What a browser tab holds while a page is open: Streamlit's websocket, through the proxy. Returns the open
    socket, the instance serving it and the cookie the proxy set (or the one sent)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Cookie: {COOKIE}={cookie}\r\n" if cookie else "") + "\r\n")
    sock.sendall(head.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        assert chunk, response
        response += chunk
    lines = response.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert " 101 " in lines[0], lines
    headers = dict(line.split(": ", 1) for line in lines[1:])
    set_cookie = headers.get("set-cookie", headers.get("Set-Cookie", ""))
    served = headers.get("x-engage-instance", headers.get("X-Engage-Instance", ""))
    return sock, served, set_cookie.split(";")[0].partition("=")[2] or (cookie or "")


@pytest.mark.deploy
def test_browsers_are_spread_pinned_and_moved_off_a_dead_instance(proxied) -> None:  # type: ignore[no-untyped-def]
    url, apps = proxied
    pages = [open_page(url) for _ in range(4)]  # four browsers open the app, one after another
    served = [instance for _sock, instance, _cookie in pages]
    assert sorted(served) == ["app1", "app1", "app2", "app2"]  # each new one went to the less busy instance
    for _sock, instance, cookie in pages:
        assert cookie == instance  # pinned by the cookie the proxy set
        browser = httpx.Client(base_url=url, timeout=10, cookies={COOKIE: cookie})
        assert {instance_of(browser.get(path)) for path in ("/", "/_stcore/health", "/auth/sign-in")} == {instance}
        browser.close()
    apps[0].kill()  # app1 dies with its browsers' sessions
    apps[0].wait()
    time.sleep(3)  # two failed health checks a second apart
    for sock, instance, cookie in pages:
        sock.close()
        _again, now_on, _ = open_page(url, cookie)  # the page reconnects, still carrying its old cookie
        _again.close()
        assert now_on == "app2", instance  # app1's browsers land on the live instance
    assert instance_of(httpx.get(f"{url}/")) == "app2"  # and so do new browsers


@pytest.mark.deploy
def test_idle_and_slow_clients_are_closed_and_one_client_cannot_exhaust_the_proxy(proxied) -> None:  # type: ignore[no-untyped-def]
    url, _apps = proxied
    host, port = url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(150)]
    slow = [socket.create_connection((host, int(port))) for _ in range(50)]
    for s in slow:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # a request head that never ends (slowloris)
    try:
        for _ in range(5):
            assert httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200
        time.sleep(6)  # past the proxy's 5 s for a request head
        assert all(closed_by_peer(s) for s in idle + slow)  # the proxy closed every one of them
    finally:
        for s in idle + slow:
            s.close()
    held = [socket.create_connection((host, int(port))) for _ in range(PER_CLIENT)]
    try:
        with pytest.raises(httpx.HTTPError):  # one more from the same address is refused
            httpx.get(f"{url}/_stcore/health", timeout=2)
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200
