"""Hosts for the multi-host deployment test: network namespaces on one bridge (10.77.0.0/24), nothing else reached."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


class Lab:
    """db, app1, app2, proxy and students, each a network namespace with its own address on one LAN."""

    HOSTS = ("db", "app1", "app2", "proxy", "students")

    def __init__(self) -> None:
        self.prefix = f"eng{os.getpid() % 100000}"
        self.address = {host: f"10.77.0.{i}" for i, host in enumerate(self.HOSTS, 2)}
        self.processes: list[subprocess.Popen[bytes]] = []

    def ns(self, host: str) -> str:
        return f"{self.prefix}{host}"

    def up(self) -> None:
        lan = self.ns("lan")
        commands = [["ip", "netns", "add", lan], ["ip", "-n", lan, "link", "add", "br0", "type", "bridge"],
                    ["ip", "-n", lan, "link", "set", "br0", "up"]]
        for host in self.HOSTS:
            ns = self.ns(host)
            commands += [["ip", "netns", "add", ns],
                         ["ip", "-n", lan, "link", "add", f"v{host}", "type", "veth", "peer", "name", "eth0", "netns", ns],
                         ["ip", "-n", lan, "link", "set", f"v{host}", "master", "br0", "up"],
                         ["ip", "-n", ns, "addr", "add", f"{self.address[host]}/24", "dev", "eth0"],
                         ["ip", "-n", ns, "link", "set", "eth0", "up"], ["ip", "-n", ns, "link", "set", "lo", "up"]]
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)

    def popen(self, host: str, command: list[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(["ip", "netns", "exec", self.ns(host), *command], stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
        self.processes.append(process)
        return process

    def run(self, host: str, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> str:
        done = subprocess.run(["ip", "netns", "exec", self.ns(host), *command], capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"{host}: {' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return done.stdout

    def down(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for host in (*self.HOSTS, "lan"):
            subprocess.run(["ip", "netns", "del", self.ns(host)], capture_output=True)
