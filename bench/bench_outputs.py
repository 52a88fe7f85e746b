"""Benchmark: what the command line costs around the simulation (issue 22, item 1).

An M/M/4 queue (4 units posted at one site, zero travel, exponential on-scene times of 80 min,
2.4 calls an hour: load 0.8), 12 replications x 8,000 h (about 230,000 incidents), three ways,
interleaved in rounds on the same machine:

- ``bare``: the textbook SimPy M/M/c (a Resource with 4 servers), the same 12 x 8,000 h;
- ``study``: ``Study.run`` of the scenario in this process (simulation, rows, statistics);
- ``cli``: ``python run_sim.py run mm4.yaml --workers 1 --out DIR`` as a child process, every
  file written (incidents.csv, figures, breakdowns, report.html with its map);
- ``start``: the interpreter's start and the imports that command makes (``python -c "import ..."``),
  the part of the command line no output causes;
- ``cli2``: the same command as a user types it (``--workers`` left at its default, the cores), wall
  time: the replications on two processes, then the figures and the report's map drawn by them
  while the tables are written.

Times are CPU seconds (user + system; the child's for the command line), medians of ``--rounds``;
ratios and shares are taken within each round and their median printed (the machine is shared:
what runs minutes apart moves together).

    python bench/bench_outputs.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_scale import bare_simpy_mmc  # noqa: E402
from machine import machine  # noqa: E402

SERVERS, RATE_PER_H, MEAN_MIN, HOURS, REPS = 4, 2.4, 80.0, 8000, 12
# What `run` imports before it writes a file: the model, the study, the figures and the report.
IMPORTS = "import sim.cli, sim.cli.run, sim.study.experiment, sim.study.report, sim.viz.plots, sim.viz.maps"


def report(bench: str, value: float, unit: str, target: float | None = None, **extra) -> None:
    met = None if target is None else bool(value <= target)
    print(json.dumps({"bench": bench, "value": round(float(value), 4), "unit": unit, "target": target,
                      "target_is": "max", "met": met, **extra, "machine": machine()}), flush=True)


def mm4_scenario(folder: Path) -> Path:
    """The M/M/4 case as a scenario file: the default scenario's sites and network, one call type
    at one site, 4 units posted there."""
    import yaml

    from sim.config import load_scenario

    raw = dict(load_scenario(ROOT / "scenarios" / "jember_pilkada_2024.yaml").raw)
    raw |= {"name": "mm4", "replications": REPS, "clock": {"start": "2024-10-23T00:00", "duration_hours": HOURS},
            "disturbances": [{"type": "call", "rate_per_hour": RATE_PER_H, "sites": {"alun_alun": 1},
                              "on_scene_min": {"dist": "exponential", "mean": MEAN_MIN}, "priority": 1}],
            "plans": [{"name": "mm4", "units": [{"type": "polri_car", "count": SERVERS, "base": "alun_alun",
                                                 "patrol": {"mode": "post", "at": "alun_alun"}}]}]}
    path = folder / "mm4.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PATROLSIM_CACHE", tempfile.mkdtemp(prefix="patrolsim-bench-"))
    from sim.study.api import Study

    work = Path(tempfile.mkdtemp(prefix="patrolsim-bench-outputs-"))
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    scenario = mm4_scenario(work)
    study = Study(scenario)
    study.world()  # network and world built once (the child reads the network from the cache)
    times: dict[str, list[float]] = {"bare": [], "study": [], "cli": [], "cli_wall": [], "start": [], "cli2_wall": []}
    incidents = served = 0
    for round_ in range(args.rounds):
        start = cpu_s()
        served = sum(bare_simpy_mmc(SERVERS, RATE_PER_H / 60.0, MEAN_MIN, HOURS * 60.0, seed) for seed in range(REPS))
        times["bare"].append(cpu_s() - start)

        start = cpu_s()
        results = study.run()
        times["study"].append(cpu_s() - start)
        incidents = len(results.incident_rows)
        del results

        out = work / f"out{round_}"
        start, wall = children_cpu_s(), time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--workers", "1",
                        "--out", str(out)], check=True, capture_output=True, env=env)
        times["cli"].append(children_cpu_s() - start)
        times["cli_wall"].append(time.perf_counter() - wall)
        shutil.rmtree(out, ignore_errors=True)

        start = children_cpu_s()
        subprocess.run([sys.executable, "-c", IMPORTS], check=True, env=env)
        times["start"].append(children_cpu_s() - start)

        wall = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--out", str(out)],
                       check=True, capture_output=True, env=env)
        times["cli2_wall"].append(time.perf_counter() - wall)
        shutil.rmtree(out, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    common = {"replications": REPS, "hours": HOURS, "incidents": incidents, "bare_served": served,
              "rounds": args.rounds}
    for name in ("bare", "study", "cli"):
        report(f"mm4_{name}_cpu_s", median[name], "s", runs_s=[round(t, 2) for t in times[name]], **common)
    report("mm4_cli_wall_s", median["cli_wall"], "s", runs_s=[round(t, 2) for t in times["cli_wall"]])
    # Ratios and shares are taken round by round (two things measured minutes apart move together
    # on a shared machine), then their median.
    def per_round(value) -> tuple[float, list[float]]:
        runs = [value(k) for k in range(args.rounds)]
        return statistics.median(runs), [round(r, 3) for r in runs]

    def of(name: str):
        return lambda k: times[name][k]

    def ratio(name: str):
        return lambda k: times[name][k] / times["bare"][k]

    for name, target in (("study", 1.5), ("cli", 2.0)):
        value, runs = per_round(ratio(name))
        report(f"mm4_{name}_over_bare", value, "x", target, runs_x=runs, **common)
    value, runs = per_round(lambda k: (of("cli")(k) - of("study")(k)) / of("cli")(k))
    report("mm4_outputs_share_of_cli", value, "share", 0.15, runs=runs,
           note="(command line - Study.run) / command line, CPU")
    report("mm4_start_cpu_s", median["start"], "s", runs_s=[round(t, 2) for t in times["start"]],
           note="interpreter start and run's imports")
    value, runs = per_round(lambda k: (of("cli")(k) - of("study")(k) - of("start")(k)) / of("cli")(k))
    report("mm4_files_share_of_cli", value, "share", runs=runs,
           note="(command line - Study.run - start and imports) / command line, CPU: what writing the files costs")
    report("mm4_cli_default_workers_wall_s", median["cli2_wall"], "s", runs_s=[round(t, 2) for t in times["cli2_wall"]])
    value, runs = per_round(ratio("cli2_wall"))
    report("mm4_cli_default_workers_wall_over_bare_cpu", value, "x", 2.0, runs_x=runs,
           note="end to end as a user types it (wall, default workers) against bare SimPy (CPU, one process)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
