"""Benchmark: what events.csv costs on the election season (scenarios/jember_pilkada_2024_season.yaml,
3,576 h, four dated events). Each replication is run again without each event, from the start of
the clock to the event's end plus sim.study.events.AFTER_MAX_H hours. Prints one JSON object per line.

- per plan, one replication: its own time and the time of the runs without each event (medians of
  ``--repeats``), and their ratio;
- all plans x ``--reps`` replications on 2 workers, result files written, with the event effects
  and with --no-event-effects (the same run otherwise), and their ratio.

The machine is shared and noisy: compare the two figures of one line, not lines of different runs.

    python bench/bench_events.py [--reps 4] [--repeats 3]
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

from sim.model import simulate  # noqa: E402
from sim.study.api import Study  # noqa: E402
from sim.study.events import AFTER_MAX_H, rep_event_figures  # noqa: E402
from sim.study.experiment import run_experiment  # noqa: E402
from sim.study.options import RunOptions  # noqa: E402

SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024_season.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PATROLSIM_CACHE", tempfile.mkdtemp(prefix="patrolsim-bench-"))
    print(json.dumps({"benchmark": "events", "machine": machine(), "after_max_h": AFTER_MAX_H}))
    study = Study(SCENARIO)
    scenario, world = study.scenario, study.world()
    print(json.dumps({"figure": "events", "events": [f"{e.id} ({e.start:%d %b %H:%M}, {e.hours:g} h)"
                                                     for e in scenario.events]}))
    for plan in study.plans:
        own, without = [], []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            result = simulate(scenario, world, plan, repeat)
            own.append(time.perf_counter() - started)
            started = time.perf_counter()
            rep_event_figures(scenario, world, result)
            without.append(time.perf_counter() - started)
        print(json.dumps({"figure": f"one replication of {plan}: its own run and the runs without each event",
                          "own_median_s": round(statistics.median(own), 2),
                          "without_events_median_s": round(statistics.median(without), 2),
                          "ratio": round(statistics.median(without) / statistics.median(own), 2)}))
    out = Path(tempfile.mkdtemp(prefix="patrolsim-bench-events-"))
    walls = {}
    for effects in (True, False):
        started = time.perf_counter()
        run_experiment(SCENARIO, RunOptions(reps=args.reps, out=out / str(effects), workers=2,
                                            event_effects=effects))
        walls[effects] = time.perf_counter() - started
    print(json.dumps({"figure": f"all {len(study.plans)} plans x {args.reps} reps, 2 workers, files and figures",
                      "with_event_effects_s": round(walls[True], 1), "no_event_effects_s": round(walls[False], 1),
                      "ratio": round(walls[True] / walls[False], 2),
                      "load_avg_1min_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
