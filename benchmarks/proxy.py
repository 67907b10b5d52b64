"""Whether idle and slow clients can starve the others: health-check latency through the real proxy under attack.

python -m benchmarks.proxy [--idle 1000] [--slow 200] [--requests 100] [--json]

Starts two real app instances and HAProxy in front of them with the configuration `bash scripts/run.sh` writes
(deploy.haproxy), then opens --idle connections that never send anything and --slow connections that send a request
head that never ends (slowloris), each from a loopback address of its own (as many clients would), and meanwhile
times GET /_stcore/health through the proxy --requests times. It reports the latency (median, 95th percentile,
worst), how many health checks failed, and how many of the attacking connections the proxy had closed 6 s later.
Needs Debian's haproxy.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import emit
from deploy.haproxy import ProxyPlan, Server, render
from deploy.local import closed_by_peer, free_ports, healthy, wait_healthy

REPO = Path(__file__).resolve().parents[1]


def wait_for(url: str, timeout: float = 120.0) -> None:
    if not wait_healthy(url, timeout):
        raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def client(i: int, port: int) -> socket.socket:
    """A connection from 127.1.x.y, one address per client."""
    s = socket.socket()
    s.bind((f"127.1.{i // 250}.{i % 250 + 1}", 0))
    s.connect(("127.0.0.1", port))
    return s


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.proxy", description=__doc__.split("\n")[0])
    p.add_argument("--idle", type=int, default=1000)
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise SystemExit("HAProxy is not installed (apt-get install haproxy)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * (args.idle + args.slow) + 1024)), hard))
    with tempfile.TemporaryDirectory() as tmp:
        proxy_port, *ports = free_ports(3)
        env = {**os.environ, "ENGAGE_DATABASE_URL": f"sqlite:///{tmp}/app.db", "ENGAGE_DATA_DIR": tmp,
               "STREAMLIT_SERVER_COOKIE_SECRET": "b" * 64, "FORWARDED_ALLOW_IPS": "127.0.0.1"}
        apps = [subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "asgi.py"),
                                  "--server.headless", "true", "--server.port", str(port), "--server.address",
                                  "127.0.0.1", "--browser.gatherUsageStats", "false"], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
        cfg = Path(tmp) / "haproxy.cfg"
        cfg.write_text(render(ProxyPlan(tuple(Server("127.0.0.1", port) for port in ports), "127.0.0.1", proxy_port)))
        proxy = None
        try:
            for port in ports:
                wait_for(f"http://127.0.0.1:{port}/_stcore/health")
            proxy = subprocess.Popen([haproxy, "-f", str(cfg), "-db"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            health = f"http://127.0.0.1:{proxy_port}/_stcore/health"
            wait_for(health)
            idle = [client(i, proxy_port) for i in range(args.idle)]
            slow = [client(args.idle + i, proxy_port) for i in range(args.slow)]
            for s in slow:
                s.sendall(b"GET / HTTP/1.1\r\nHost: school\r\nX-Slow: ")
            times, failures = [], 0
            for _ in range(args.requests):
                began = time.perf_counter()
                failures += not healthy(health)
                times.append((time.perf_counter() - began) * 1000)
            time.sleep(max(0.0, 6.5 - args.requests * 0.001))
            closed_count = sum(closed_by_peer(s, 0.5) for s in idle + slow)
            for s in idle + slow:
                s.close()
        finally:
            for process in [p for p in (proxy, *apps) if p is not None]:
                process.terminate()
                process.wait(timeout=15)
    ordered = sorted(times)
    result = {"idle": args.idle, "slow": args.slow, "requests": args.requests, "failed": failures,
              "health_ms_median": round(statistics.median(ordered), 2),
              "health_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2), "health_ms_max": round(ordered[-1], 2),
              "attackers_closed_after_6s": closed_count, "cpus": os.cpu_count()}
    table = (f"{args.idle} idle + {args.slow} slowloris connections: health through HAProxy median "
             f"{result['health_ms_median']} ms, p95 {result['health_ms_p95']} ms, worst {result['health_ms_max']} ms, "
             f"{failures} failed; {closed_count} of {args.idle + args.slow} attacking connections closed after 6 s")
    emit(result, table, args.json)


if __name__ == "__main__":
    main()
