"""A worker process of the server: the scenario loaded, the network and travel trees in memory.

A worker reads ``(kind, payload)`` messages from its pipe and answers each with ``("ok", value)``,
``("input", problems)`` (bad input: a 400) or ``("error", text)`` (a bug: logged, a 500). Workers
are forked from the warm zygote (``sim.serve.zygote``); each ends when its pipe closes, and on
Linux the kernel kills it when its parent dies (``PR_SET_PDEATHSIG``), ``kill -9`` included.
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


def end_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (its parent) ends, however it ends."""
    by_kernel = False
    if sys.platform == "linux":
        import ctypes

        try:  # PR_SET_PDEATHSIG (1): SIGKILL when the parent dies
            by_kernel = ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    if by_kernel:  # no thread: the zygote forks, and must stay single-threaded
        return

    def watch() -> None:  # elsewhere: notice within a second that the parent is gone
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="patrolsim-serve-parent-watch", daemon=True).start()


def serve_tasks(conn: Any, tasks: Any) -> None:
    """Answer the tasks that come on ``conn`` with ``tasks.run`` until the pipe closes."""
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
