"""The server's warm worker processes, and jobs spread over them with a time limit.

A job (one evaluation, optimisation, animation or report) is split into tasks put on one queue;
each worker takes the next task whose job is still wanted. A job that is superseded or whose
client went away is dropped from the queue (a task already running finishes, a second or less);
a job past its time limit also has the workers running its tasks killed and started again, so
the server never waits for it. Processes are started with ``spawn`` from the event loop's own
thread: the server has threads, and a forked copy of those would be unsafe.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.errors import InputError
from sim.serve.worker import worker_main

log = logging.getLogger("patrolsim.serve")


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
        self.process: multiprocessing.Process | None = None
        self.conn: Any = None
        self.job: Job | None = None
        self.started_at = 0.0


class WorkerPool:
    """``n`` worker processes with the scenario ``config`` loaded (see ``sim.serve.tasks.Tasks``)."""

    def __init__(self, config: dict, n: int = 2):
        self.config = config
        self.n = n
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(k) for k in range(n)]
        self._queue: asyncio.Queue[_Task] | None = None
        self._threads = ThreadPoolExecutor(max_workers=n, thread_name_prefix="patrolsim-serve-pipe")
        self._loops: list[asyncio.Task] = []
        self.restarts = 0

    # -- processes -------------------------------------------------------------------------------

    def _spawn(self, slot: _Slot) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=worker_main, args=(child, self.config, os.getpid()),
                                        name=f"patrolsim-serve-worker-{slot.index}", daemon=True)
        process.start()
        child.close()
        slot.process, slot.conn = process, parent

    def _kill(self, slot: _Slot) -> None:
        process, conn = slot.process, slot.conn
        slot.process = slot.conn = None
        if process is not None and process.is_alive():
            process.kill()
        if conn is not None:
            conn.close()
        if process is not None:
            process.join(timeout=5)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers now (for tests and the benchmark)."""
        return [slot.process.pid for slot in self._slots if slot.process is not None and slot.process.pid]

    async def start(self) -> None:
        """Start the workers and their loops (in the running event loop)."""
        self._queue = asyncio.Queue()
        for slot in self._slots:
            self._spawn(slot)
            self._loops.append(asyncio.create_task(self._serve(slot)))

    async def close(self) -> None:
        """Stop every worker (and wait for it): nothing is left running."""
        for loop in self._loops:
            loop.cancel()
        for slot in self._slots:
            if slot.conn is not None:
                try:
                    slot.conn.close()
                except OSError:
                    pass
            if slot.process is not None:
                slot.process.terminate()
        for slot in self._slots:
            if slot.process is not None:
                slot.process.join(timeout=3)
                if slot.process.is_alive():
                    slot.process.kill()
                    slot.process.join(timeout=3)
            slot.process = slot.conn = None
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
            if slot.job is job and slot.process is not None and slot.process.is_alive():
                # its pipe then reads end-of-file: _serve closes it and starts a new process
                log.warning("worker %s: killed (a job ran past its time limit)", slot.index)
                slot.process.kill()

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
            if answer[0] == "gone":  # killed for the time limit, or crashed: a new process, warmed at once
                self._kill(slot)
                self._spawn(slot)
                self.restarts += 1
                if not task.future.done():
                    task.future.set_exception(JobStopped(task.job.stopped or "worker died"))
                with contextlib.suppress(EOFError, OSError):
                    await loop.run_in_executor(self._threads, _call, slot.conn, "warm", None)
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
