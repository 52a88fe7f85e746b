"""Benchmark of ``map`` at regency scale: the voting day's 4,077 sites (4,041 polling stations) drawn as
a PNG, an HTML page and a GeoPackage, with a run's results, against the target of 20 s per map.

Prints one JSON object per line: the figure, its unit, the target, whether it is met, and the
machine. Run from anywhere: ``python bench/bench_maps.py``. Each map is timed as the command runs it
(``python run_sim.py map ... --results DIR``: a new process that loads the scenario, the cached road
network and the results, builds the world and draws), after one short run of the scenario writes
the results folder and caches the network; the drawing alone is timed in-process beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the script runs from bench/: make sim importable

from sim.cli.map import read_areas, read_results, read_summary  # noqa: E402
from sim.config import load_scenario, network_spec  # noqa: E402
from sim.model import build_world  # noqa: E402
from sim.network import load_network  # noqa: E402
from sim.viz.maps import target_bands, write_map  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_voting_day_2024.yaml"
TARGET_S = 20.0
MACHINE = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def report(bench: str, value: float, unit: str, target: float | None, **extra: object) -> None:
    """Print one result line; the target (if any) is a maximum."""
    line = {"bench": bench, "value": round(value, 3), "unit": unit, "target": target, "target_is": "max",
            "met": None if target is None else bool(value <= target), **extra,
            "machine": MACHINE | {"load_avg_1min": round(os.getloadavg()[0], 2)}}
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--plan", default="tps-posts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="patrolsim-bench-maps-") as tmp:
        folder = Path(tmp) / "run"
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(args.scenario), "--plan", args.plan,
                        "--reps", "1", "--hours", "6", "--workers", "1", "--out", str(folder)],
                       check=True, capture_output=True)
        scenario = load_scenario(args.scenario)
        report("map_results_run", time.perf_counter() - started, "s", None,
               note="one replication of 6 h, to have a results folder (not a map)", sites=len(scenario.sites))
        for suffix in (".png", ".html", ".gpkg"):
            out = Path(tmp) / f"map{suffix}"
            started = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "map", str(args.scenario), "--plan", args.plan,
                            "--results", str(folder), "--out", str(out)], check=True, capture_output=True)
            report(f"map_command{suffix}", time.perf_counter() - started, "s", TARGET_S, sites=len(scenario.sites),
                   bytes=out.stat().st_size)
        # The drawing alone, in this process: the world built once, each format drawn on it.
        plans = [args.plan]
        world = build_world(scenario, load_network(network_spec(scenario, None)))
        results, areas = read_results(folder, scenario, plans), read_areas(folder, plans)
        summary = read_summary(folder, plans)
        for suffix in (".png", ".html", ".gpkg"):
            started = time.perf_counter()
            write_map(scenario, world, plans, Path(tmp) / f"drawn{suffix}", target_bands(scenario.target_response_min),
                      results, areas, summary)
            report(f"map_draw{suffix}", time.perf_counter() - started, "s", TARGET_S, sites=len(scenario.sites))


if __name__ == "__main__":
    main()
