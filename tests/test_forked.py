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
def test_with_two_processes_the_calls_are_dealt_to_this_process_and_a_forked_child():
    pids = run_calls([os.getpid] * 4, 2)
    assert pids[0::2] == [os.getpid()] * 2, "the first, third, ... calls run here"
    assert len(set(pids[1::2])) == 1 and pids[1] != os.getpid(), "the others in one child"
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
