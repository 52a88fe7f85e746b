"""sim.forked: calls made side by side in forked children give what they give made here, in order,
and a child's failure reaches the parent as an error, never as a hang or a missing file."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from sim.errors import InputError
from sim.forked import Forked, finish, run_calls, start

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="children are forks only on Linux")


def test_results_come_back_in_the_order_of_the_calls_whatever_the_processes():
    calls = [lambda k=k: k * k for k in range(7)]
    for processes in (1, 2, 3, 10):
        assert run_calls(calls, processes) == [k * k for k in range(7)], f"{processes} processes"


@linux_only
def test_with_two_processes_this_process_and_a_child_make_calls_at_the_same_time():
    import multiprocessing

    both = multiprocessing.get_context("fork").Barrier(2, timeout=20)  # passed only by two calls at once

    def together() -> int:
        both.wait()
        return os.getpid()

    pids = run_calls([together] * 4, 2)
    assert os.getpid() in pids and len(set(pids)) == 2, f"calls made by {pids}: this process and one child"
    assert run_calls([os.getpid] * 3, 1) == [os.getpid()] * 3, "one process: every call here"


@linux_only
def test_a_child_sees_this_process_memory_without_anything_sent():
    unpicklable = threading.Lock()  # a lock cannot be pickled, yet the child can use it
    assert run_calls([lambda: 1, lambda: unpicklable.locked()], 2) == [1, False]


@linux_only
def test_an_error_in_a_child_is_raised_here_with_its_kind_and_words():
    def refuse():
        raise InputError("sites.csv: a site off the network")

    with pytest.raises(InputError, match="a site off the network"):
        run_calls([lambda: 1, refuse], 2)
    with pytest.raises(InputError, match="a site off the network"):
        finish(start(refuse, 2))


@linux_only
def test_a_child_that_dies_without_answering_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="ended without an answer .exit code 3"):
        Forked(lambda: os._exit(3)).result()


@linux_only
def test_an_answer_that_cannot_be_pickled_comes_back_as_an_error_naming_it():
    with pytest.raises(RuntimeError, match="lock"):
        Forked(threading.Lock).result()


def test_one_process_keeps_the_call_to_run_here_when_finished():
    ran = []
    kept = start(lambda: ran.append(os.getpid()) or "done", 1)
    assert ran == [], "nothing runs before finish"
    assert finish(kept) == "done" and ran == [os.getpid()]


@linux_only
def test_a_stopped_child_ends():
    import time

    child = Forked(lambda: time.sleep(60))
    assert child.running
    child.stop()
    assert not child.running, "stop() ends a child still at work"


@linux_only
def test_a_free_process_takes_the_next_calls_while_the_other_is_busy():
    import multiprocessing
    from functools import partial

    others_done = multiprocessing.get_context("fork").Semaphore(0)

    def long_call() -> str:
        for _ in range(3):
            assert others_done.acquire(timeout=20), "the other calls waited for this one instead of being taken"
        return "long"

    def short_call(k: int) -> int:
        others_done.release()
        return k

    assert run_calls([long_call, *(partial(short_call, k) for k in (1, 2, 3))], 2) == ["long", 1, 2, 3]
