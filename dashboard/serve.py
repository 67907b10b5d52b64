"""Starts the app as `bash scripts/run.sh` does: one app instance per usable core behind HAProxy, each restarted by
supervisord when it dies, or one plain Streamlit process.

python -m dashboard.serve [streamlit run options ...]

One app process uses at most about 1.6 of two cores: its threads take turns on one Python interpreter (README,
Capacity). With ENGAGE_INSTANCES=N (N > 1; the default 0 means one per usable core, at most 8) and HAProxy installed
(Debian's `haproxy`), this writes HAProxy's configuration (deploy.haproxy: cookie stickiness, health checks,
timeouts, limits, X-Forwarded-For, TLS) and supervisord's (the `supervisor` package) under <data_dir>/run/, and runs
supervisord in the foreground: it starts N Streamlit processes on local ports and HAProxy on the public port, and
restarts any of them that exits without touching the others. Without HAProxy it says so in one line and serves one
process. The port, address and TLS options (--server.port, --server.address, --server.sslCertFile/KeyFile) are the
proxy's; every other option goes to each instance. The instances share the database and one cookie secret, trust
X-Forwarded-For only from the proxy (uvicorn's FORWARDED_ALLOW_IPS), and mark sign-in cookies Secure when the proxy
serves HTTPS. The tables and the first admin are made once, before anything starts.
"""
from __future__ import annotations

import logging
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from deploy.haproxy import ProxyPlan, Server, render
from deploy.local import free_ports, healthy
from settings import Settings, SettingsError

log = logging.getLogger("dashboard.serve")
REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "asgi.py"  # the pages (dashboard/app.py) and the sign-in route
BASE_ARGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
OWN_OPTIONS = {"--server.port": "8501", "--server.address": "", "--server.sslCertFile": "", "--server.sslKeyFile": ""}


def split_options(args: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The options the proxy serves (port, address, TLS) and the rest, which every instance gets.
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


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)


def supervisor_config(run_dir: Path, ports: list[int], args: list[str], haproxy: str | None, proxy_cfg: Path | None,
                      secret: str, https: bool, control: str = "", address: str = "127.0.0.1",
                      proxy_address: str = "127.0.0.1") -> str:
    """supervisord.conf: the instances (on `address`) and HAProxy (when given; it runs at `proxy_address`), each
    restarted when it exits, their output on ours. `control` is the password of supervisorctl's socket (user
    `engage`; the file is readable by its owner only)."""
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secret, "FORWARDED_ALLOW_IPS": proxy_address,
           "ENGAGE_SECURE_COOKIES": "true" if https else os.environ.get("ENGAGE_SECURE_COOKIES", "false")}
    environment = ",".join(f'{k}="{v}"' for k, v in env.items())
    output = "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n"
    programs = []
    for i, port in enumerate(ports, 1):
        command = " ".join([sys.executable, "-m", "streamlit", "run", str(APP), *BASE_ARGS, "--server.port", str(port),
                            "--server.address", address, "--logger.hideWelcomeMessage", "true",
                            *(shlex.quote(a) for a in args)])
        programs.append(f"[program:app{i}]\ncommand={command}\ndirectory={REPO}\nenvironment={environment}\n"
                        f"autorestart=true\nstartsecs=5\nstartretries=1000\nstopasgroup=true\nkillasgroup=true\n"
                        f"stopwaitsecs=15\n{output}")
    if haproxy is not None:
        # started by the launcher once every instance answers, so the public port opens on a ready app
        programs.append(f"[program:proxy]\ncommand={haproxy} -f {proxy_cfg} -db\nautostart=false\nautorestart=true\n"
                        f"startsecs=2\nstartretries=1000\n{output}")
    control = control or secrets.token_urlsafe(16)
    user = "user=root\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""  # said so: supervisord asks
    return (f"[supervisord]\nnodaemon=true\n{user}logfile={run_dir / 'supervisord.log'}\nlogfile_maxbytes=5MB\n"
            f"pidfile={run_dir / 'supervisord.pid'}\nloglevel=warn\n\n"
            f"[unix_http_server]\nfile={run_dir / 'supervisor.sock'}\nchmod=0700\nusername=engage\npassword={control}\n\n"
            f"[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{run_dir / 'supervisor.sock'}\nusername=engage\npassword={control}\n\n"
            + "\n".join(programs))


def write_private(path: Path, text: str) -> Path:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)
    return path


def plan_proxy(own: dict[str, str], ports: list[int], run_dir: Path) -> ProxyPlan:
    """HAProxy's plan: the public port and address, TLS from the certificate and key (joined into one PEM)."""
    pem = None
    if own["--server.sslCertFile"] or own["--server.sslKeyFile"]:
        try:
            joined = Path(own["--server.sslCertFile"]).read_text() + "\n" + Path(own["--server.sslKeyFile"]).read_text()
        except OSError as exc:
            raise SystemExit(f"error: cannot read the certificate or key: {exc}") from None
        pem = write_private(run_dir / "proxy.pem", joined)
    return ProxyPlan(tuple(Server("127.0.0.1", p) for p in ports), own["--server.address"] or "*",
                     int(own["--server.port"]), pem)


def wait_until_serving(urls: list[str], supervisor: subprocess.Popen[bytes], timeout: float = 180.0) -> bool:
    """Whether every URL's health check answered before supervisord exited or `timeout` passed."""
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    while waiting and time.monotonic() < deadline and supervisor.poll() is None:
        if healthy(f"{waiting[0]}/_stcore/health"):
            waiting.pop(0)
        else:
            time.sleep(0.5)
    return not waiting


def run_supervised(settings: Settings, instances: int, args: list[str], haproxy: str) -> int:
    own, rest = split_options(args)
    run_dir = (settings.data_dir / "run").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    ports = free_ports(instances)
    plan = plan_proxy(own, ports, run_dir)
    proxy_cfg = write_private(run_dir / "haproxy.cfg", render(plan))
    secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)  # one for all instances
    conf = write_private(run_dir / "supervisord.conf",
                         supervisor_config(run_dir, ports, rest, haproxy, proxy_cfg, secret, plan.certificate is not None))
    supervisor = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)], cwd=REPO)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: supervisor.send_signal(signal.SIGTERM))
    scheme = "https" if plan.certificate else "http"
    host = own["--server.address"] or "localhost"
    local = "127.0.0.1" if host in ("localhost", "0.0.0.0", "*") else host
    if not wait_until_serving([f"http://127.0.0.1:{p}" for p in ports], supervisor):
        log.error("not every app instance answered within 180 s; the proxy starts anyway (see the log above)")
    subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), "start", "proxy"],
                   cwd=REPO, capture_output=True)
    if wait_until_serving([f"{scheme}://{local}:{plan.port}"], supervisor, timeout=30):
        log.info("%d instances ready behind %s://%s:%s (HAProxy; supervisord restarts any that exits; "
                 "configuration in %s)", instances, scheme, host, plan.port, run_dir)
    return supervisor.wait()


def prepare(settings: Settings) -> str | None:
    """The WebRTC patches' fit to the installed libraries, then tables, the first admin and retention, once here
    (so instances do not race to create the same tables); the reason in one line if anything cannot be used."""
    from dashboard.webrtc.internals import InternalsChanged, check
    from db.session import DatabaseUnavailable
    from db.startup import StartupError, prepare_database

    logging.disable(logging.WARNING)  # Streamlit warns of its caches and script context when imported outside a server
    try:
        check()
    except InternalsChanged as exc:
        return str(exc)
    finally:
        logging.disable(logging.NOTSET)
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
    haproxy = find_haproxy() if instances > 1 else None
    if instances > 1 and haproxy is None:
        log.warning("HAProxy is not installed, so one app instance serves (for one per core: apt-get install haproxy)")
    if instances <= 1 or haproxy is None:  # the plain app
        os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(APP), *BASE_ARGS, *args])
    return run_supervised(settings, instances, args, haproxy)


if __name__ == "__main__":
    sys.exit(main())
