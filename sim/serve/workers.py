"""The server's worker processes, and jobs spread over them with a time limit.

A job (one evaluation, optimisation, animation or report) is split into tasks put on one queue;
each worker takes the next task whose job is still wanted. A job that is superseded or whose
client went away is dropped from the queue (a task already running finishes, a second or less);
a job past its time limit also has the workers running its tasks killed and replaced, so the
server never waits for it. Workers are forked from the warm zygote (``sim.serve.zygote``), spawned
at ``launch()`` before the server loads anything itself, so both load the scenario at once; a
replacement worker is warm from its first millisecond. Nothing forks the server itself: it has
threads, and a forked copy of those would be unsafe.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any, Callable

from sim.errors import InputError
from sim.serve.zygote import zygote_main

log = logging.getLogger("patrolsim.serve")


class WorkerStartFailed(Exception):
    """The zygote could not load the scenario (its traceback is the message)."""


class WorkerFailed(Exception):
    """A task failed inside a worker for a reason other than bad input (logged with its traceback)."""


class JobStopped(Exception):
    """The job was cancelled (superseded, its client gone) or ran past its time limit."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "superseded", "gone" or "time limit"


@dataclass(eq=False)
class Job:
    """Tasks that answer one request; ``done``/``total`` for its progress."""

    total: int = 0
    done: int = 0
    stopped: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
            self.changed.set()


@dataclass(eq=False)
class _Task:
    job: Job
    kind: str
    payload: Any
    future: asyncio.Future


class _Slot:
    """One worker process and its pipe."""

    def __init__(self, index: int):
        self.index = index
        self.pid: int | None = None
        self.conn: Any = None
        self.job: Job | None = None
        self.started_at = 0.0


class _Zygote:
    """The warm parent process and its control pipe (one request at a time)."""

    def __init__(self, config: dict):
        context = multiprocessing.get_context("spawn")
        self.control, child = context.Pipe()
        self.process = context.Process(target=zygote_main, args=(child, config, os.getpid()),
                                       name="patrolsim-serve-zygote", daemon=True)
        self.process.start()
        child.close()
        self.lock = threading.Lock()
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the zygote has loaded the scenario; WorkerStartFailed if it could not."""
        with self.lock:
            if self.ready:
                return
            try:
                status, value = self.control.recv()
            except (EOFError, OSError):
                raise WorkerStartFailed(f"the worker parent ended at its start (exit code {self.process.exitcode})") \
                    from None
            if status != "ready":
                raise WorkerStartFailed(str(value))
            self.ready = True

    def fork(self) -> tuple[int, Connection]:
        """A new warm worker: (its pid, the server's end of its pipe)."""
        self.wait_ready()
        with self.lock:
            self.control.send("fork")
            pid = self.control.recv()
            fd = reduction.recv_handle(self.control)
        return pid, Connection(fd)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.control.close()
        if not self.ready:  # still loading: nothing to wait for
            self.process.terminate()
        self.process.join(timeout=3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=3)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int | None, signum: int) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


class WorkerPool:
    """``n`` worker processes with the scenario ``config`` loaded (see ``sim.serve.tasks.Tasks``)."""

    def __init__(self, config: dict, n: int = 2):
        self.config = config
        self.n = n
        self._zygote: _Zygote | None = None
        self._launching = threading.Lock()
        self._slots = [_Slot(k) for k in range(n)]
        self._queue: asyncio.Queue[_Task] | None = None
        self._threads = ThreadPoolExecutor(max_workers=n + 1, thread_name_prefix="patrolsim-serve-pipe")
        self._loops: list[asyncio.Task] = []
        self.restarts = 0

    # -- processes -------------------------------------------------------------------------------

    def launch(self) -> None:
        """Spawn the zygote now (it loads the scenario while the caller does other work)."""
        with self._launching:
            if self._zygote is None:
                self._zygote = _Zygote(self.config)

    def _spawn(self, slot: _Slot) -> None:
        """Fork a worker for ``slot``; a zygote that has died is spawned again first."""
        self.launch()
        zygote = self._zygote
        assert zygote is not None
        try:
            slot.pid, slot.conn = zygote.fork()
        except (EOFError, OSError):
            log.warning("the workers' parent process ended: starting it again")
            with self._launching:
                if self._zygote is zygote:
                    zygote.close()
                    self._zygote = None
            self.launch()
            slot.pid, slot.conn = self._zygote.fork()

    def _kill(self, slot: _Slot) -> None:
        pid, conn = slot.pid, slot.conn
        slot.pid = slot.conn = None
        _signal(pid, signal.SIGKILL)
        if conn is not None:
            conn.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers now (for tests and the benchmark)."""
        return [slot.pid for slot in self._slots if slot.pid is not None]

    async def start(self) -> None:
        """Start the workers and their loops (in the running event loop)."""
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self.launch()
        for slot in self._slots:
            await loop.run_in_executor(self._threads, self._spawn, slot)
            self._loops.append(asyncio.create_task(self._serve(slot)))

    async def close(self) -> None:
        """Stop every worker and the zygote: nothing is left running."""
        for loop in self._loops:
            loop.cancel()
        self.stop()

    def stop(self) -> None:
        """Stop the processes now (the worker loops, if any, are the caller's to cancel)."""
        for slot in self._slots:
            if slot.conn is not None:
                with contextlib.suppress(OSError):
                    slot.conn.close()
            _signal(slot.pid, signal.SIGTERM)
        if self._zygote is not None:  # its workers get SIGKILL from the kernel when it ends
            self._zygote.close()
            self._zygote = None
        deadline = time.monotonic() + 3
        for slot in self._slots:
            while slot.pid is not None and _alive(slot.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            _signal(slot.pid, signal.SIGKILL)
            slot.pid = slot.conn = None
        self._threads.shutdown(wait=False, cancel_futures=True)

    # -- tasks -----------------------------------------------------------------------------------

    def submit(self, job: Job, kind: str, payload: Any) -> asyncio.Future:
        """Queue one task of ``job``; its future gives the worker's answer."""
        assert self._queue is not None, "start() the pool first"
        future = asyncio.get_running_loop().create_future()
        job.total += 1
        self._queue.put_nowait(_Task(job, kind, payload, future))
        return future

    async def run(self, job: Job, tasks: list[tuple[str, Any]], deadline: float,
                  on_progress: Callable[[Job], None] | None = None) -> list[Any]:
        """Run ``tasks`` of ``job`` and return their answers in order; JobStopped when the job is
        stopped or ``deadline`` (``time.monotonic()``) passes (its workers are then restarted)."""
        futures = [self.submit(job, kind, payload) for kind, payload in tasks]
        pending = set(futures)
        try:
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    job.stop("time limit")
                if job.stopped:
                    raise JobStopped(job.stopped)
                job.changed.clear()
                waiter = asyncio.ensure_future(job.changed.wait())
                done, _ = await asyncio.wait(pending | {waiter}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                for future in done - {waiter}:
                    pending.discard(future)
                    future.result()  # raises the task's own error
                    job.done += 1
                    if on_progress is not None:
                        on_progress(job)
            return [future.result() for future in futures]
        except BaseException:
            job.stop(job.stopped or "gone")
            for future in pending:
                future.cancel()
            if job.stopped == "time limit":
                self.kill_job(job)
            raise

    def kill_job(self, job: Job) -> None:
        """Kill the workers running tasks of ``job`` now; their loops start new ones."""
        for slot in self._slots:
            if slot.job is job and slot.pid is not None:
                # its pipe then reads end-of-file: _serve closes it and forks a new worker
                log.warning("worker %s: killed (a job ran past its time limit)", slot.index)
                _signal(slot.pid, signal.SIGKILL)

    async def _serve(self, slot: _Slot) -> None:
        loop = asyncio.get_running_loop()
        assert self._queue is not None
        while True:
            task = await self._queue.get()
            if task.job.stopped or task.future.done():
                continue
            slot.job, slot.started_at = task.job, time.monotonic()
            conn = slot.conn
            try:
                answer = await loop.run_in_executor(self._threads, _call, conn, task.kind, task.payload)
            except (EOFError, OSError) as error:
                answer = ("gone", f"{type(error).__name__}")
            finally:
                slot.job = None
            if answer[0] == "gone":  # killed for the time limit, or crashed: a new worker, warm at once
                self._kill(slot)
                await loop.run_in_executor(self._threads, self._spawn, slot)
                self.restarts += 1
                if not task.future.done():
                    task.future.set_exception(JobStopped(task.job.stopped or "worker died"))
                continue
            if task.future.done():
                continue
            status, value = answer
            if status == "ok":
                task.future.set_result(value)
            elif status == "input":
                task.future.set_exception(InputError(value))
            else:
                log.error("worker %s: %s failed:\n%s", slot.index, task.kind, value)
                task.future.set_exception(WorkerFailed(str(value).strip().splitlines()[-1][:300]))


def _call(conn: Any, kind: str, payload: Any) -> tuple[str, Any]:
    if conn is None:
        raise EOFError("no worker")
    conn.send((kind, payload))
    return conn.recv()
