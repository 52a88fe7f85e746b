"""Benchmark of the hypercube model: exact N = 10, 12, 14, 15 and approximate N = 20, 50, 100.

Each case runs in its own subprocess so that its peak memory (ru_maxrss, the whole Python
process including numpy/scipy, about 100 MB of it) is not masked by an earlier case.
Every case: a 12 km town, 300 atoms (70 % near the centre, lognormal weights), random
posts, load 0.8, 40 min mean service, seed 0. Prints one JSON object per line.

    python bench/bench_hypercube.py
"""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analytic.hypercube import HypercubeInput, solve_approximate, solve_exact  # noqa: E402
from tests.towns import town  # noqa: E402

N_ATOMS = 300
LOAD = 0.8
SERVICE_RATE_PER_MIN = 1 / 40
# (model, units, time target s, peak memory target MB); None = measured, no target.
CASES = [
    ("exact", 10, None, None),
    ("exact", 12, None, None),
    ("exact", 14, None, None),
    ("exact", 15, 10.0, 2048.0),
    ("approximate", 20, None, None),
    ("approximate", 50, None, None),
    ("approximate", 100, 1.0, None),
]


def bench_input(n_units: int, seed: int = 0) -> HypercubeInput:
    return town(n_units, N_ATOMS, LOAD, seed, "concentrated", SERVICE_RATE_PER_MIN)


def run_one(model: str, n_units: int) -> dict[str, float]:
    """In the child: time one solve; report seconds and the process's peak RSS in MB."""
    inp = bench_input(n_units)
    solver = solve_exact if model == "exact" else solve_approximate
    start = time.perf_counter()
    solver(inp)
    elapsed_s = time.perf_counter() - start
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return {"seconds": elapsed_s, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale}


def line(name: str, model: str, n_units: int, value: float, unit: str,
         target: float | None, machine: dict[str, object]) -> str:
    return json.dumps({
        "benchmark": name, "model": model, "units": n_units, "atoms": N_ATOMS, "load": LOAD,
        "value": round(value, 4), "unit": unit, "target": target,
        "met": None if target is None else value <= target, "machine": machine,
    })


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]))))
        return 0
    machine = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    for model, n_units, time_target_s, mem_target_mb in CASES:
        out = subprocess.run([sys.executable, __file__, "--one", model, str(n_units)],
                             check=True, capture_output=True, text=True)
        measured = json.loads(out.stdout)
        print(line(f"hypercube_{model}_time", model, n_units, measured["seconds"], "s", time_target_s, machine))
        print(line(f"hypercube_{model}_peak_rss", model, n_units, measured["peak_rss_mb"], "MB",
                   mem_target_mb, machine), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
