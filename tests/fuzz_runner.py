"""A fork server for tests/cli/test_fuzz.py: imports patrolsim once, then runs each case given on stdin
(one JSON object a line: argv, stdout and stderr files) in a forked child process with a memory
limit and a time limit, and answers one JSON line with its exit code, time and peak memory.

A child is a real command-line run (``sim.cli.main``), as ``python run_sim.py ARGS`` runs it; an
exception that escapes ``main`` is printed as Python would print it (a traceback) and exits 1.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.cli import main  # noqa: E402  (after the path is set)


def _child(argv: list[str], stdout: str, stderr: str, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - what Python itself would do with an uncaught exception
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _vm_size_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def serve() -> None:
    for line in sys.stdin:
        case = json.loads(line)
        # The child starts as a copy of this process: the limit is what it may add on top.
        memory = _vm_size_bytes() + int(case["extra_memory_bytes"])
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(case["argv"], case["stdout"], case["stderr"], memory)
        timed_out = False
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - started > case["seconds"]:
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                timed_out = True
                break
            time.sleep(0.01)
        print(json.dumps({"code": os.waitstatus_to_exitcode(status), "timed_out": timed_out,
                          "seconds": time.monotonic() - started, "max_rss_bytes": usage.ru_maxrss * 1024}),
              flush=True)


if __name__ == "__main__":
    serve()
