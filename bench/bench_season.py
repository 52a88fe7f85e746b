"""Benchmark: the election season (scenarios/jember_pilkada_2024_season.yaml, 3,576 h, 4,041
synthetic polling stations). Prints one JSON object per line.

Targets (issue 11): one replication of one plan at most 10 s (the world built beforehand); all
plans x 10 replications on 2 workers at most 120 s (result files and figures included, the world
built in the run). The machine is shared and noisy: the single replication is the median of
``--repeats`` runs.

    python bench/bench_season.py [--reps 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.study.api import Study  # noqa: E402
from sim.study.experiment import run_experiment  # noqa: E402
from sim.study.options import RunOptions  # noqa: E402

SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024_season.yaml"


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PATROLSIM_CACHE", tempfile.mkdtemp(prefix="patrolsim-bench-"))
    print(json.dumps({"benchmark": "season", "machine": machine()}))

    started = time.perf_counter()
    study = Study(SCENARIO)
    study.world()
    print(json.dumps({"figure": "season world (network, 4,084 sites snapped, tables)",
                      "wall_s": round(time.perf_counter() - started, 2)}))
    plan = study.plans[0]
    times, incidents = [], 0
    for repeat in range(args.repeats):
        started = time.perf_counter()
        result = study.simulate(plan, rep=repeat)
        times.append(time.perf_counter() - started)
        incidents = len(result.incidents)
    one = statistics.median(times)
    print(json.dumps({"figure": f"one replication of plan {plan}", "median_s": round(one, 2),
                      "runs_s": [round(t, 2) for t in times], "incidents": incidents,
                      "target_s": 10, "ok": one <= 10}))

    out = Path(tempfile.mkdtemp(prefix="patrolsim-bench-season-"))
    started = time.perf_counter()
    run_experiment(SCENARIO, RunOptions(reps=args.reps, out=out / "all", workers=2))
    wall = time.perf_counter() - started
    print(json.dumps({"figure": f"all {len(study.plans)} plans x {args.reps} reps, 2 workers, files and figures",
                      "wall_s": round(wall, 1), "target_s": 120, "ok": wall <= 120,
                      "load_avg_1min_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
