"""The deployment the README describes, on hosts of their own: PostgreSQL on a database host, a supervised app
instance on each of two app hosts, HAProxy on a proxy host, students in Chromium on a student host, all network
namespaces of this machine on one LAN. One app host's instance is killed while two students stream."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dashboard.serve import supervisor_config
from deploy.haproxy import ProxyPlan, Server, render
from tests.browser.harness.run import CHROMIUM, STAFF, astronaut_scene, make_clip
from tests.conftest import REPO
from tests.dashboard.test_serve import self_signed
from tests.deploy.lab import Lab
from tests.postgres import pg_bin

PG_URL = "postgresql+psycopg://engage@10.77.0.2/postgres"
SETUP = f"""
from db.accounts import Account
from db.schema import LessonSession
from db.startup import prepare_database
from services.policy import Policy
from services.teaching import Teaching
_engine, sessions = prepare_database({PG_URL!r}, {STAFF['username']!r}, {STAFF['password']!r}, 30)
lesson_id = Teaching(sessions, Policy()).create(Account({STAFF['username']!r}, "admin"), "Across hosts", course=None,
                                                 privacy_mode="aggregate", start=True)
with sessions() as s:
    print(s.get(LessonSession, lesson_id).join_code)
"""
RECORDS = f"""
import json
from sqlalchemy import create_engine, text
engine = create_engine({PG_URL!r})
with engine.connect() as c:
    rows = c.execute(text("select p.display_name, extract(epoch from o.ts) from observations o "
                          "join participants p on p.id = o.participant_id order by o.ts")).all()
print(json.dumps([[name, float(t)] for name, t in rows]))
"""


def missing() -> list[str]:
    tools = {"ip": shutil.which("ip"), "haproxy": shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists(),
             "chromium": Path(CHROMIUM).exists(), "postgresql": pg_bin(), "root": os.geteuid() == 0}
    return [name for name, found in tools.items() if not found]


def start_postgres(lab: Lab) -> Path:
    """PostgreSQL on the database host, listening on its LAN address; returns its folder (the caller removes it)."""
    binaries = pg_bin()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="engage-pg-"))  # outside pytest's folder, which the postgres user cannot enter
    shutil.chown(root, "postgres")
    owner = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*owner, str(binaries / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "engage"],
                   check=True, capture_output=True)
    (root / "data" / "pg_hba.conf").write_text("local all all trust\nhost all all 10.77.0.0/24 trust\n")
    lab.run("db", [*owner, str(binaries / "pg_ctl"), "-D", str(root / "data"), "-w", "-l", str(root / "log"), "-o",
                   f"-k {root} -c listen_addresses=10.77.0.2 -c fsync=off", "start"])
    return root


def app_host(lab: Lab, host: str, tmp: Path, env: dict[str, str]) -> None:
    run_dir = tmp / host
    run_dir.mkdir()
    conf = run_dir / "supervisord.conf"
    conf.write_text(supervisor_config(run_dir, [8501], ["--server.headless", "true"], None, None,
                                      env["STREAMLIT_SERVER_COOKIE_SECRET"], https=False, address="0.0.0.0",
                                      proxy_address=lab.address["proxy"]))
    lab.popen(host, [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)], tmp / f"{host}.log",
              env={**env, "ENGAGE_DATA_DIR": str(run_dir)}, cwd=REPO)


def health(lab: Lab, host: str, url: str) -> bool:
    code = f"from deploy.local import healthy; print(healthy({url!r}))"
    return lab.run(host, [sys.executable, "-c", code], cwd=REPO).strip() == "True"


def streamlit_pid(lab: Lab, host: str) -> int:
    out = subprocess.run(["ip", "netns", "pids", lab.ns(host)], capture_output=True, text=True).stdout.split()
    for pid in out:
        try:
            if b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
        except OSError:
            continue
    return 0


def largest_gap(times: list[float], start: float, end: float) -> float:
    inside = [t for t in times if start <= t <= end]
    return max((b - a for a, b in zip(inside, inside[1:])), default=float("inf"))


@pytest.mark.deploy
def test_students_stream_through_the_proxy_and_survive_an_app_host_dying(tmp_path: Path, astronaut_bgr,  # type: ignore[no-untyped-def]
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    absent = missing()
    if absent:
        pytest.skip(f"DEPLOY TESTS SKIPPED: missing {', '.join(absent)} (scripts/test.sh installs them as root)")
    lab, pg_root = Lab(), None
    tmp_path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env.update(ENGAGE_DATABASE_URL=PG_URL, ENGAGE_MODELS_DIR=str(REPO / "models"), ENGAGE_ANALYSIS_INTERVAL="0.5",
               STREAMLIT_SERVER_COOKIE_SECRET="c" * 64, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2",
               ENGAGE_INSTANCES="1")
    try:
        lab.up()
        pg_root = start_postgres(lab)
        code = lab.run("app1", [sys.executable, "-c", SETUP], env=env, cwd=REPO).strip().splitlines()[-1]
        for host in ("app1", "app2"):
            app_host(lab, host, tmp_path, env)
        cert, key = self_signed(tmp_path)  # browsers share cameras only with https pages (or localhost)
        pem = tmp_path / "proxy.pem"
        pem.write_text(cert.read_text() + key.read_text())
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(render(ProxyPlan((Server(lab.address["app1"], 8501), Server(lab.address["app2"], 8501)),
                                        lab.address["proxy"], 8501, pem, check_every_s=1)))
        deadline = time.monotonic() + 180
        while not all(health(lab, "proxy", f"http://{lab.address[h]}:8501/_stcore/health") for h in ("app1", "app2")):
            assert time.monotonic() < deadline, (tmp_path / "app1.log").read_text()[-3000:]
            time.sleep(2)
        lab.popen("proxy", [shutil.which("haproxy") or "/usr/sbin/haproxy", "-f", str(cfg), "-db"], tmp_path / "proxy.log")
        clips = [make_clip(tmp_path / f"s{i}.y4m", astronaut_scene(astronaut_bgr, 40 + 160 * i, bool(i)))
                 for i in range(2)]
        for clip in clips:
            clip.chmod(0o644)
        plan = {"scheme": "https", "host": lab.address["proxy"], "port": 8501, "join_code": code, "chromium": CHROMIUM,
                "students": [{"name": "Ada", "clip": str(clips[0])}, {"name": "Bo", "clip": str(clips[1])}],
                "folder": str(tmp_path), "stream_after_s": 12}
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        students = lab.popen("students", [sys.executable, str(REPO / "tests/deploy/students.py"), str(tmp_path / "plan.json")],
                             tmp_path / "students.log", env=env, cwd=REPO)
        deadline = time.monotonic() + 240
        while not (tmp_path / "streaming.json").exists():
            assert students.poll() is None and time.monotonic() < deadline, (tmp_path / "students.log").read_text()[-3000:]
            time.sleep(1)
        joined = json.loads((tmp_path / "streaming.json").read_text())
        assert sorted(e["instance"] for e in joined) == ["app1", "app2"], joined  # one student on each app host
        time.sleep(8)  # both stream for a while
        victim_host = "app1"
        old_pid = streamlit_pid(lab, victim_host)
        killed_at = time.time()
        os.kill(old_pid, 9)
        (tmp_path / "killed").write_text("app1")
        deadline = time.monotonic() + 120
        while streamlit_pid(lab, victim_host) in (0, old_pid) or not health(
                lab, "proxy", f"http://{lab.address[victim_host]}:8501/_stcore/health"):
            assert time.monotonic() < deadline, (tmp_path / f"{victim_host}.log").read_text()[-3000:]
            time.sleep(1)
        restarted_after = time.time() - killed_at
        with capsys.disabled():
            print(f"\nkilled the app instance on {victim_host} (pid {old_pid}); supervisord had it serving again "
                  f"{restarted_after:.1f} s later (pid {streamlit_pid(lab, victim_host)})")
        assert students.wait(timeout=300) == 0, (tmp_path / "students.log").read_text()[-3000:]
        result = json.loads((tmp_path / "result.json").read_text())
        records = json.loads(lab.run("app2", [sys.executable, "-c", RECORDS], env=env, cwd=REPO).strip().splitlines()[-1])
    finally:
        lab.down()
        if pg_root is not None:
            subprocess.run(["runuser", "-u", "postgres", "--", str(pg_bin() / "pg_ctl"), "-D", str(pg_root / "data"),  # type: ignore[operator]
                            "-m", "immediate", "stop"], capture_output=True)
            shutil.rmtree(pg_root, ignore_errors=True)
    by_name: dict[str, list[float]] = {}
    for name, t in records:
        by_name.setdefault(name, []).append(t)
    counts = {name: len(times) for name, times in by_name.items()}
    assert set(counts) == {"Ada", "Bo", next(f"{e['name']} again" for e in result if e["instance"] == "app1")}, (
        f"observations per participant: {counts}\n{json.dumps(result)[:3000]}")
    survivor = next(e for e in result if e["instance"] == "app2")
    moved = next(e for e in result if e["instance"] == "app1")
    assert moved["instance_after"] == "app2", moved  # the reconnecting student landed on the live host
    survivor_times = by_name[survivor["name"]]
    assert largest_gap(survivor_times, killed_at - 5, killed_at + 10) < 3.0, survivor_times  # no gap in the records
    assert any(t > killed_at for t in by_name[moved["name"] + " again"])  # recorded again after the reconnect
    assert any(t < killed_at for t in by_name[moved["name"]])  # and before, from the host that died
