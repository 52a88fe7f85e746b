"""A real planning-page server for tests: ``python run_sim.py serve`` on a loopback address and a free port.

Usage::

    with running_server("--workers", "2") as server:
        status, answer = server.post("/api/evaluate", {...})

The server is the command a user runs, in its own process; it is stopped as a user stops it
(SIGINT, i.e. Ctrl-C), and ``ServerProcess.workers()`` lists its worker processes, so a test can
check that none is left behind.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180.0  # loading the scenario and warming the workers on a busy 2-core machine
ADDRESS = re.compile(r"http://(\[[^\]]+\]|[^:/]+):(\d+)/(\?token=(\S+))?")


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class ServerProcess:
    """A running server: its address, token and process; JSON requests to it."""

    def __init__(self, process: subprocess.Popen, host: str, port: int, token: str | None):
        self.process, self.host, self.port, self.token = process, host, port, token

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def workers(self) -> list[int]:
        """The server's worker processes: the children of its zygote (the one process it spawned)."""
        return [pid for zygote in self.zygotes() for pid in children(zygote) if alive(pid)]

    def zygotes(self) -> list[int]:
        """The warm parent of the workers (a child of the server started by multiprocessing's spawn)."""
        return [pid for pid in children(self.process.pid) if alive(pid) and b"spawn_main" in _cmdline(pid)]

    def descendants(self) -> list[int]:
        """Every process the server started, and those they started, alive now."""
        found, todo = [], [self.process.pid]
        while todo:
            for pid in children(todo.pop()):
                if alive(pid):
                    found.append(pid)
                    todo.append(pid)
        return found

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 120.0) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def _headers(self, extra: dict | None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["X-Patrolsim-Token"] = self.token
        return headers | (extra or {})

    def post(self, path: str, data: Any, headers: dict | None = None, timeout: float = 120.0) -> tuple[int, Any]:
        status, _, body = self.request("POST", path, json.dumps(data).encode(), self._headers(headers), timeout)
        return status, json.loads(body)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, Any]:
        status, _, body = self.request("GET", path, None, self._headers(headers))
        return status, json.loads(body)


@contextmanager
def running_server(*args: str, scenario: str = "scenarios/jember_pilkada_2024.yaml") -> Iterator[ServerProcess]:
    """Start ``run_sim.py serve SCENARIO --port 0 ARGS`` and wait for its address; stop it with SIGINT."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "run_sim.py", "serve", scenario, "--port", "0", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        match = None
        while match is None:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the server ended before printing its address:\n" + "".join(lines))
            lines.append(line)
            match = ADDRESS.search(line)
            if time.monotonic() > deadline:
                raise RuntimeError("the server printed no address in time:\n" + "".join(lines))
        host = match.group(1).strip("[]")
        # keep reading what the server says, so its pipe never fills (and a failing test can show it)
        reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
        reader.start()
        server = ServerProcess(process, host, int(match.group(2)), match.group(4))
        server.output = lines
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
