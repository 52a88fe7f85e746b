"""One warm worker process of the server: the scenario loaded, the network and travel trees in memory.

The process reads ``(kind, payload)`` messages from its pipe and answers each with ``("ok", value)``,
``("input", problems)`` (bad input: a 400) or ``("error", text)`` (a bug: logged, a 500). It ends
with its server however the server ends: the pipe closes, and on Linux the kernel kills it when
its parent dies (``PR_SET_PDEATHSIG``), ``kill -9`` included. Ctrl-C in the terminal reaches the
whole process group: the worker ignores it and lets the server stop it.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from sim.errors import InputError


def _end_with_parent(parent_pid: int) -> None:
    if sys.platform == "linux":
        import ctypes

        try:  # PR_SET_PDEATHSIG (1): SIGKILL when the parent dies
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:  # elsewhere: notice within a second that the parent is gone
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="patrolsim-serve-parent-watch", daemon=True).start()


def worker_main(conn: Any, config: dict, parent_pid: int) -> None:
    """The worker's loop (the target of its Process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent(parent_pid)
    from sim.serve.tasks import Tasks

    tasks = Tasks(config)
    while True:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            answer: tuple = ("ok", tasks.run(kind, payload))
        except InputError as error:
            answer = ("input", error.problems)
        except MemoryError:
            answer = ("error", "out of memory")
        except Exception:  # noqa: BLE001 - any other failure is the server's to log, not the worker's end
            answer = ("error", traceback.format_exc(limit=20))
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return
