"""Benchmark of the location programs at regency scale: 4,041 demand sites, 1,000 candidates, 50 units.

The demand sites are the 4,041 polling stations (TPS) of scenarios/jember_voting_day_2024.yaml
(SYNTHETIC positions: generated there by kecamatan population), each of weight 1, snapped to the
demo network; the candidates are 1,000 road nodes drawn at random (seed 0); travel minutes by
one forward Dijkstra per candidate. Cases, each in its own subprocess so that its peak memory
(ru_maxrss of the whole process: Python, numpy, scipy, the network, the 4,041 x 1,000 travel
matrix) is its own:

- MCLP at the scenario's 15-minute target (50 cars can cover every TPS; the time goes to the tie-break),
- MCLP at 5 minutes (a real choice: about two thirds can be covered),
- p-median (least mean travel).

For each: the integer program's time (target 60 s, solved to optimality or a gap <= 1%), its
peak memory (target 2 GB), and the greedy placement's objective and time, as a ratio to the
program's. Prints one JSON object per line.

    python bench/bench_optimize.py
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

import numpy as np  # noqa: E402

SCENARIO = ROOT / "scenarios" / "jember_voting_day_2024.yaml"
N_CANDIDATES, N_UNITS, SEED = 1000, 50, 0
TIME_TARGET_S, MEMORY_TARGET_MB, GAP_TARGET = 60.0, 2048.0, 0.01
# (case, objective, target minutes)
CASES = [("mclp-15min", "mclp", 15.0), ("mclp-5min", "mclp", 5.0), ("pmedian", "pmedian", 15.0)]


def bench_instance(target_min: float):
    """(Instance, seconds to build the travel matrix) of the benchmark."""
    from sim.config import load_scenario
    from sim.network import NetworkSpec, load_network, snap_sites
    from sim.optimize.metrics import Instance
    from sim.optimize.travel import travel_min_forward

    scenario = load_scenario(SCENARIO)
    network = load_network(NetworkSpec("demo"))
    tps = [site for site in scenario.sites if site.kind == "polling_station"]
    snapped = snap_sites(network, tps, float("inf"))  # synthetic points: no true position to check
    demand_nodes = np.array([snapped[site.id][0] for site in tps])
    candidates = np.random.default_rng(SEED).choice(network.n_nodes, N_CANDIDATES, replace=False)
    started = time.perf_counter()
    travel = travel_min_forward(network, candidates, demand_nodes)
    return Instance(np.ones(len(tps)), travel, target_min), time.perf_counter() - started


def run_one(objective: str, target_min: float) -> dict:
    """In the child: build the instance, solve the program, run the greedy placement."""
    from sim.optimize.metrics import greedy, objective_value
    from sim.optimize.programs import solve

    instance, travel_s = bench_instance(target_min)
    started = time.perf_counter()
    solution = solve(instance, N_UNITS, objective, time_limit_s=TIME_TARGET_S)
    solve_s = time.perf_counter() - started
    started = time.perf_counter()
    counts = greedy(instance, N_UNITS, objective)
    greedy_s = time.perf_counter() - started
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024
    return {"demand_sites": len(instance.weight), "travel_matrix_s": travel_s, "seconds": solve_s,
            "optimal": solution.optimal, "gap": solution.gap, "value": solution.value,
            "greedy_value": objective_value(instance, counts, objective, 0.0), "greedy_seconds": greedy_s,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale}


def line(name: str, case: str, value, unit: str, target, met, machine: dict, **extra) -> str:
    return json.dumps({"benchmark": name, "case": case, "demand_sites": 4041, "candidates": N_CANDIDATES,
                       "units": N_UNITS, "value": round(value, 4) if isinstance(value, float) else value,
                       "unit": unit, "target": target, "met": met, **extra, "machine": machine})


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], float(sys.argv[3]))))
        return 0
    machine = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
               "load_1min": round(os.getloadavg()[0], 2)}
    for case, objective, target_min in CASES:
        out = subprocess.run([sys.executable, __file__, "--one", objective, str(target_min)],
                             check=True, capture_output=True, text=True)
        m = json.loads(out.stdout)
        solved = m["optimal"] or m["gap"] <= GAP_TARGET
        print(line("optimize_program_time", case, m["seconds"], "s", TIME_TARGET_S,
                   m["seconds"] <= TIME_TARGET_S and solved, machine, objective=objective, target_min=target_min,
                   optimal=m["optimal"], gap=m["gap"], program_value=m["value"]))
        print(line("optimize_peak_rss", case, m["peak_rss_mb"], "MB", MEMORY_TARGET_MB,
                   m["peak_rss_mb"] <= MEMORY_TARGET_MB, machine))
        # Greedy against the program: objective ratio (coverage: greedy / program, <= 1; p-median:
        # greedy mean travel / program's, >= 1) and the time it took.
        print(line("optimize_greedy", case, m["greedy_value"] / m["value"], "ratio to the program", None, None,
                   machine, greedy_value=m["greedy_value"], program_value=m["value"],
                   greedy_seconds=round(m["greedy_seconds"], 4), travel_matrix_s=round(m["travel_matrix_s"], 2)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
