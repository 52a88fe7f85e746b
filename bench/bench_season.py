"""Benchmark: the election season (scenarios/jember_pilkada_2024_season.yaml, 3,576 h, 4,041
synthetic polling stations). Prints one JSON object per line.

Targets (issue 11): one replication of one plan at most 10 s (the world built beforehand); all
plans x 10 replications on 2 workers at most 120 s (result files and figures included, the world
built in the run). Then the command as a user types it, ``python run_sim.py run SEASON --out DIR``
(the scenario's replications, default workers, events.csv included), timed from outside with the
peak memory of its process tree (issue 22: at most 30 s), the network cached beforehand, and the
same with ``--no-event-effects`` beside it. The machine is shared and noisy: the single replication is the median of
``--repeats`` runs.

    python bench/bench_season.py [--reps 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import machine  # noqa: E402

from sim.study.api import Study  # noqa: E402
from sim.study.experiment import run_experiment  # noqa: E402
from sim.study.options import RunOptions  # noqa: E402

SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024_season.yaml"


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

    from process_tree import run_measured

    command = [sys.executable, "run_sim.py", "run", str(SCENARIO)]
    run = run_measured([*command, "--out", str(out / "cli")], ROOT, os.environ | {"PYTHONPATH": str(ROOT)})
    print(json.dumps({"figure": "python run_sim.py run (the scenario's replications, default workers) end to end",
                      "wall_s": run["wall_s"], "cpu_s": run["cpu_s"], "peak_tree_mb": run["peak_tree_mb"],
                      "peak_tree_pss_mb": run["peak_tree_pss_mb"],
                      "target_s": 30, "ok": run["wall_s"] <= 30, "load_avg_1min_after": round(os.getloadavg()[0], 2)}))
    plain = run_measured([*command, "--no-event-effects", "--out", str(out / "cli-plain")], ROOT,
                         os.environ | {"PYTHONPATH": str(ROOT)})
    print(json.dumps({"figure": "the same with --no-event-effects (no runs without each event, no events.csv)",
                      "wall_s": plain["wall_s"], "cpu_s": plain["cpu_s"], "peak_tree_mb": plain["peak_tree_mb"],
                      "peak_tree_pss_mb": plain["peak_tree_pss_mb"],
                      "with_over_without_cpu": round(run["cpu_s"] / plain["cpu_s"], 2),
                      "load_avg_1min_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
