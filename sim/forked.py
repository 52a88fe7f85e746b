"""Calls run side by side in forked child processes: a run's figures and its report's map drawn on
the cores its replications used, while this process writes the tables.

Where fork is not how processes start (macOS, Windows), or with one process asked for, the calls
simply run here, one after another: the results are the same either way.
"""
from __future__ import annotations

import multiprocessing
import sys
from typing import Any, Callable, Sequence

Call = Callable[[], Any]


def can_fork() -> bool:
    """Whether child processes start as forks of this one (Linux): they see its memory, nothing is sent."""
    return sys.platform == "linux"


class Forked:
    """``call`` running in a forked child process. ``result()`` waits for it and returns what it
    returned, or raises what it raised; ``stop()`` ends it if it is still ``running``. Its value and
    exception go back pickled, so they must be picklable (an exception that is not comes back as a
    RuntimeError with its text)."""

    def __init__(self, call: Call):
        context = multiprocessing.get_context("fork")
        self._answer, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_answer, args=(call, sender), daemon=True)
        self._process.start()
        sender.close()

    def result(self) -> Any:
        try:
            ok, value = self._answer.recv()
        except EOFError:  # the child died without an answer (killed, out of memory)
            self._process.join()
            raise RuntimeError(f"a drawing process ended without an answer (exit code {self._process.exitcode})") \
                from None
        finally:
            self._answer.close()
        self._process.join()
        if ok:
            return value
        raise value

    @property
    def running(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._answer.close()


def _answer(call: Call, sender) -> None:
    try:
        answer = (True, call())
    except BaseException as error:  # noqa: BLE001 (everything goes back to the parent, which raises it)
        answer = (False, error)
    try:
        sender.send(answer)
    except Exception as error:  # noqa: BLE001 (an answer that cannot be pickled)
        sender.send((False, RuntimeError(f"{type(answer[1]).__name__}: {str(answer[1])[:500]} ({error})")))
    sender.close()


def start(call: Call, processes: int) -> Forked | Call:
    """``call`` started in a forked child when ``processes`` > 1 and children are forks, else kept to
    be run here; either way ``finish()`` gives its result."""
    return Forked(call) if processes > 1 and can_fork() else call


def finish(started: Forked | Call) -> Any:
    """The result of what ``start`` returned (running it now if it was kept)."""
    return started.result() if isinstance(started, Forked) else started()


def run_calls(calls: Sequence[Call], processes: int) -> list[Any]:
    """The results of ``calls``, in order, made by at most ``processes`` processes at once: this
    process and ``processes - 1`` forked children each take the next call not yet taken whenever
    they are free (so put the costly ones first). An error is raised as it is met, the children
    still running then ended."""
    share = max(1, min(processes, len(calls))) if can_fork() else 1
    if share == 1:
        return [call() for call in calls]
    taken = multiprocessing.get_context("fork").Value("i", 0)  # how many calls have been taken
    children = [Forked(lambda: _take(calls, taken)) for _ in range(share - 1)]
    try:
        made = _take(calls, taken)
        for child in children:
            made |= child.result()
    finally:
        for child in children:
            child.stop()
    return [made[k] for k in range(len(calls))]


def _take(calls: Sequence[Call], taken) -> dict[int, Any]:
    """Make the next call not yet taken, until none is left; {its index: its result}."""
    made = {}
    while True:
        with taken.get_lock():
            k = taken.value
            taken.value = k + 1
        if k >= len(calls):
            return made
        made[k] = calls[k]()
