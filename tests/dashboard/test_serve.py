"""dashboard.serve: the options the proxy keeps, the supervised set-up it writes, and a real HTTPS launch."""
from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import serve
from dashboard.serve import split_options, supervisor_config


def test_the_proxy_keeps_port_address_and_tls_and_passes_the_rest_on() -> None:
    own, rest = split_options(["--server.port", "9000", "--server.sslCertFile=c.pem", "--server.sslKeyFile", "k.pem",
                               "--theme.base", "dark", "--server.address=0.0.0.0"])
    assert own == {"--server.port": "9000", "--server.address": "0.0.0.0", "--server.sslCertFile": "c.pem",
                   "--server.sslKeyFile": "k.pem"}
    assert rest == ["--theme.base", "dark"]
    with pytest.raises(SystemExit, match="needs a value"):
        split_options(["--server.port"])


def test_supervisord_restarts_each_instance_and_the_proxy_on_their_own(tmp_path: Path) -> None:
    text = supervisor_config(tmp_path, [8601, 8602], ["--theme.base", "dark mode"], "/usr/sbin/haproxy",
                             tmp_path / "haproxy.cfg", "s3cret", https=True)
    for program in ("[program:app1]", "[program:app2]", "[program:proxy]"):
        block = text.split(program)[1].split("[program:")[0]
        assert "autorestart=true" in block and "stdout_logfile=/dev/stdout" in block
    assert "--server.port 8601 --server.address 127.0.0.1" in text and "'dark mode'" in text
    assert 'FORWARDED_ALLOW_IPS="127.0.0.1"' in text and 'ENGAGE_SECURE_COOKIES="true"' in text
    assert f"command=/usr/sbin/haproxy -f {tmp_path / 'haproxy.cfg'} -db" in text


def test_without_haproxy_one_instance_serves_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    executed: list[list[str]] = []
    monkeypatch.setenv("ENGAGE_INSTANCES", "2")
    monkeypatch.setenv("ENGAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setattr(serve, "find_haproxy", lambda: None)
    def execv(path: str, argv: list[str]) -> None:
        executed.append(argv)
        raise SystemExit(0)  # execv does not return

    monkeypatch.setattr(serve.os, "execv", execv)
    with pytest.raises(SystemExit):
        serve.main(["--server.port", "9123"])
    assert "HAProxy is not installed" in caplog.text
    assert executed and executed[0][-2:] == ["--server.port", "9123"] and "streamlit" in executed[0]


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


@pytest.mark.deploy
def test_two_supervised_instances_serve_https_behind_haproxy(tmp_path: Path, tiny_models_dir: Path) -> None:
    """The README's HTTPS command with ENGAGE_INSTANCES=2: HAProxy terminates TLS and pins the browser; an instance
    that is killed is started again while the other serves; the database was prepared once before anything started."""
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
    if serve.find_haproxy() is None:
        pytest.skip("DEPLOY TESTS SKIPPED: HAProxy is not installed (scripts/test.sh installs it as root)")
    env.update(ENGAGE_INSTANCES="2", ENGAGE_DATABASE_URL=url, ENGAGE_DATA_DIR=str(tmp_path / "data"),
               ENGAGE_MODELS_DIR=str(tiny_models_dir),
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
        while "instances ready" not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.5)  # every instance answers, and the proxy uses them
        assert any(c.startswith("engage_instance=app") for c in response.headers.get_all("Set-Cookie"))
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
        assert len(staff) == 1 and "Secure" in staff[0] and "HttpOnly" in staff[0]  # TLS ends at the proxy
        sign_in.close()
        engine = create_engine(url)
        assert "users" in inspect(engine).get_table_names()  # made before the instances started
        engine.dispose()
        killed = instance_pids(proc.pid)[0]
        os.kill(killed, 9)  # one instance dies
        for _ in range(10):  # the other keeps serving meanwhile
            with urllib.request.urlopen(f"https://localhost:{port}/_stcore/health", timeout=5, context=context) as r:
                assert r.status == 200
            time.sleep(0.2)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (len(instance_pids(proc.pid)) < 2 or killed in instance_pids(proc.pid)):
            time.sleep(1)
        assert len(instance_pids(proc.pid)) == 2 and killed not in instance_pids(proc.pid)  # started again
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0  # a clean stop: supervisord stopped the instances and the proxy
        assert not instance_pids(proc.pid)
        log.close()
    assert "2 instances ready behind https://localhost:" in (tmp_path / "serve.log").read_text()


def instance_pids(root: int) -> list[int]:
    """The Streamlit processes under a process (supervisord's children), oldest first."""
    from tests.browser.harness.scenario import process_tree

    def is_streamlit(pid: int) -> bool:
        try:
            return b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    return sorted(pid for pid in process_tree(root) if pid != root and is_streamlit(pid))
