"""A command as a user types it, timed from outside: wall seconds and the peak memory of its whole
process tree (the command and every worker it forks), sampled from /proc (Linux): summed resident
memory (a page forked processes share counted once in each) and summed proportional memory (PSS:
a shared page split between the processes sharing it, so the sum is what the machine gives the tree)."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

SAMPLE_S = 0.05  # /proc is read this often while the command runs


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rfind(")") + 2:].split()[1])
    pids, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        found = [child for child, of in parents.items() if of == parent]
        pids += found
        todo += found
    return pids


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """(resident, proportional) memory (kB) of ``pid`` and all its descendants now, each summed."""
    rss = pss = 0
    for p in tree_pids(pid):
        try:
            rss += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1))
            pss += int(re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{p}/smaps_rollup").read_text(), re.M).group(1))
        except (OSError, AttributeError):
            pass
    return rss, pss


def run_measured(args: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``args``; its wall seconds, the peak resident and proportional memory of its process tree
    (MB, each summed over the processes alive at a sample), CPU seconds of the tree (user + system)."""
    before = os.times()
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_kb = peak_pss_kb = 0
    while process.poll() is None:
        rss_kb, pss_kb = _tree_memory_kb(process.pid)
        peak_kb, peak_pss_kb = max(peak_kb, rss_kb), max(peak_pss_kb, pss_kb)
        time.sleep(SAMPLE_S)
    wall_s = time.perf_counter() - started
    after = os.times()
    stderr = process.stderr.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n{stderr[-2000:]}")
    cpu_s = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": round(wall_s, 2), "peak_tree_mb": round(peak_kb / 1024, 1),
            "peak_tree_pss_mb": round(peak_pss_kb / 1024, 1), "cpu_s": round(cpu_s, 2)}
