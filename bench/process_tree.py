"""A command as a user types it, timed from outside: wall seconds and the peak resident memory of
its whole process tree (the command and every worker it forks), sampled from /proc (Linux)."""
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


def _tree_rss_kb(pid: int) -> int:
    """Resident memory (kB) of ``pid`` and all its descendants now."""
    total = 0
    for p in tree_pids(pid):
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def run_measured(args: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``args``; its wall seconds, the peak RSS of its process tree (MB, summed over the
    processes alive at each sample), CPU seconds of the tree (user + system) and exit code."""
    before = os.times()
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _tree_rss_kb(process.pid))
        time.sleep(SAMPLE_S)
    wall_s = time.perf_counter() - started
    after = os.times()
    stderr = process.stderr.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n{stderr[-2000:]}")
    cpu_s = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": round(wall_s, 2), "peak_tree_mb": round(peak_kb / 1024, 1), "cpu_s": round(cpu_s, 2)}
