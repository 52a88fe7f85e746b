"""The warm parent of the server's workers: one process that loads the scenario once and forks workers.

The server spawns it first thing, so its imports and the scenario's world are made while the
server loads its own copy. Each worker is then a ``fork`` of this warm, single-threaded process:
it starts in milliseconds with the network, the world and its travel tables already in memory
(shared with its siblings until written), and a worker killed for the time limit is replaced as
fast. The server asks for a worker with ``"fork"`` on the control pipe; the answer is the
worker's pid, then its end of a new pipe, passed as a file descriptor (``SCM_RIGHTS``).

The zygote ends with the server (its control pipe closes; on Linux the kernel also kills it when
the server dies) and its workers end with it: each asks for ``SIGKILL`` when its parent dies.
Ctrl-C reaches the whole process group: the zygote and the workers ignore it and let the
server stop them.
"""
from __future__ import annotations

import contextlib
import os
import signal
import traceback
from multiprocessing import Pipe, reduction
from typing import Any

from sim.errors import InputError
from sim.serve.worker import end_with_parent, serve_tasks


def zygote_main(control: Any, config: dict, server_pid: int) -> None:
    """The zygote's loop (the target of its spawned Process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(server_pid)
    try:
        from sim.serve.tasks import Tasks

        tasks = Tasks(config)
        nodes = tasks.run("warm", None)
    except Exception as error:  # noqa: BLE001 - the server reports it and stops
        text = "\n".join(error.problems) if isinstance(error, InputError) else traceback.format_exc(limit=20)
        with contextlib.suppress(OSError):  # the server may have stopped already (it loads the same scenario)
            control.send(("error", text))
        return
    # Forked workers are reaped by the kernel (the server watches them through their pipes).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control.send(("ready", nodes))
    while True:
        try:
            command = control.recv()
        except (EOFError, OSError):
            return
        if command != "fork":
            return
        pid, conn = _fork_worker(tasks, control)
        control.send(pid)
        reduction.send_handle(control, conn.fileno(), server_pid)
        conn.close()


def _fork_worker(tasks: Any, control: Any) -> tuple[int, Any]:
    """Fork a worker serving ``tasks`` on a new pipe; (its pid, the server's end of that pipe)."""
    server_end, worker_end = Pipe()
    pid = os.fork()
    if pid == 0:  # the worker: it never returns from here
        code = 1
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own children (the optimiser's) are waited for
            control.close()
            server_end.close()
            end_with_parent(os.getppid())
            serve_tasks(worker_end, tasks)
            code = 0
        except BaseException:  # noqa: BLE001 - said on stderr; the server sees the pipe close
            traceback.print_exc()
        finally:
            os._exit(code)
    worker_end.close()
    return pid, server_end
