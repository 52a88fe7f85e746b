"""Benchmark: ``Results.tables()``, every CSV's rows, made before a run's files are written.

The table builders (summary, comparison and pairs, sites, priorities, areas) read every incident;
``run`` makes them in one process before the drawing children fork, so their time is on the
critical path of every run. Three cases:

- ``mm4``: the M/M/4 case of bench_outputs (1 plan, 12 x 8,000 h, about 230,000 incidents);
- ``default``: scenarios/jember_pilkada_2024.yaml (5 plans, 20 replications);
- ``voting``: scenarios/jember_voting_day_2024.yaml (4,041 sites, tables of one row per plan and site).

Each case runs in a child process (the study once, then ``tables()`` ``--rounds`` times from empty
caches: CPU seconds, median). With ``--against DIR`` (another checkout of patrolsim, e.g. an
export of an older commit) each case runs with that code too, right after this one, and a ratio
line compares the two; the machine is shared, so quote the ratios of one run.

    python bench/bench_tables.py [--rounds 5] [--against /tmp/old-patrolsim]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_outputs import mm4_scenario  # noqa: E402
from machine import machine  # noqa: E402

CASES = {"default": "scenarios/jember_pilkada_2024.yaml", "voting": "scenarios/jember_voting_day_2024.yaml"}

# Run in the child, with the code of the checkout on its PYTHONPATH.
CHILD = """
import functools, json, resource, statistics, sys
from sim.study.api import Study

def cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

results = Study(sys.argv[1]).run()
cached = [name for name, value in vars(type(results)).items() if isinstance(value, functools.cached_property)]
times = []
for _ in range(int(sys.argv[2])):
    for name in cached:
        results.__dict__.pop(name, None)
    start = cpu_s()
    results.tables()
    times.append(cpu_s() - start)
print(json.dumps({"incidents": sum(len(results.rows[p][0]) for p in results.plans), "times": times}))
"""


def tables_cpu_s(code: Path, scenario: Path, rounds: int) -> dict:
    """The child's incidents and its tables() CPU seconds per round, with ``code`` importing first."""
    env = os.environ | {"PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(scenario), str(rounds)], check=True, capture_output=True,
                          text=True, env=env, cwd=code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(bench: str, value: float, unit: str, **extra) -> None:
    print(json.dumps({"bench": bench, "value": round(float(value), 4), "unit": unit, **extra, "machine": machine()}),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout of patrolsim to time the same way")
    args = parser.parse_args()
    os.environ.setdefault("PATROLSIM_CACHE", tempfile.mkdtemp(prefix="patrolsim-bench-"))
    work = Path(tempfile.mkdtemp(prefix="patrolsim-bench-tables-"))
    cases = {"mm4": mm4_scenario(work)} | {name: ROOT / path for name, path in CASES.items()}
    versions = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    for case, scenario in cases.items():
        medians = {}
        for version, code in versions.items():
            found = tables_cpu_s(code, scenario, args.rounds)
            medians[version] = statistics.median(found["times"])
            report(f"{case}_tables_cpu_s", medians[version], "s", version=str(code), incidents=found["incidents"],
                   runs_s=[round(t, 3) for t in found["times"]])
        if "against" in medians:
            report(f"{case}_tables_this_over_against", medians["this"] / medians["against"], "x",
                   note="tables() CPU, this checkout / --against, medians of one run")


if __name__ == "__main__":
    main()
