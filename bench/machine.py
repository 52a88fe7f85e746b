"""The machine a benchmark ran on, for its first JSON line (the 1-minute load average when asked)."""
from __future__ import annotations

import multiprocessing
import os
import platform
import time


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


SPIN_N = 5_000_000  # iterations of one unit of pure-Python work (about a third of a second here)


def two_process_speedup() -> float:
    """What two processes gain on this machine for work with nothing shared: two units of a
    pure-Python loop done in turn by one process, over the same two done at once by two forked
    processes. The ceiling of any 2-worker speed-up measured beside it (2.0 on two idle cores)."""
    started = time.perf_counter()
    _spin(SPIN_N)
    _spin(SPIN_N)
    one = time.perf_counter() - started
    started = time.perf_counter()
    processes = [multiprocessing.get_context("fork").Process(target=_spin, args=(SPIN_N,)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return one / (time.perf_counter() - started)
