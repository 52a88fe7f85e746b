"""What the executors do around the replications: the work this process is given to do meanwhile."""
from __future__ import annotations

import gc
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from sim import Study
from sim.study.executors import rep_part, run_tasks

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "jember_pilkada_2024.yaml"


@pytest.fixture(scope="module")
def study(cache) -> Study:
    return Study(DEFAULT_SCENARIO, {"clock.duration_hours": 12})


def run_with_meanwhile(study: Study, workers: int) -> list[str]:
    """What happened, in order: 'meanwhile (N children)' and 'part' for each replication handled here."""
    events: list[str] = []
    tasks = [("mixed", rep) for rep in range(4)]
    run_tasks(study.scenario, study.world(), study.world_key(), tasks, lambda part: events.append("part"),
              workers=workers, cache=study.cache,
              meanwhile=lambda: events.append(f"meanwhile ({len(multiprocessing.active_children())} children)"))
    return events


@pytest.mark.slow
def test_meanwhile_runs_once_when_the_local_workers_have_started(study):
    events = run_with_meanwhile(study, workers=2)
    assert events.count("part") == 4, f"every replication handled once: {events}"
    meanwhile = [event for event in events if event.startswith("meanwhile")]
    # The pool forks its workers at its first task: none is forked while this process imports or draws.
    assert meanwhile == ["meanwhile (2 children)"], f"meanwhile not called once beside both workers: {events}"


def test_meanwhile_runs_first_when_the_replications_run_here(study):
    events = run_with_meanwhile(study, workers=1)
    assert events == ["meanwhile (0 children)", "part", "part", "part", "part"], \
        f"meanwhile is not called once, before the replications this process runs: {events}"


def test_the_experiment_leaves_the_drawing_modules_to_be_imported_while_replications_run():
    # matplotlib and the map take about half a second to import: `run` does it beside its workers.
    code = ("import sys, sim.study.experiment; "
            "print(sorted(m for m in ('matplotlib', 'sim.viz.plots', 'sim.viz.maps') if m in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[2]).stdout.strip()
    assert imported == "[]", f"importing the experiment imports the drawing modules too: {imported}"


def test_no_collector_pass_scans_a_replication_between_its_simulation_and_its_rows(cache):
    # Once the simulation has ended, a pass would scan every record of the replication still alive
    # (about an eighth of Study.run on a long case); they are dropped before the collector is on.
    passes: list[int] = []
    watching = False

    def seen(phase: str, info: dict) -> None:
        if phase == "start" and watching:
            passes.append(info["generation"])

    week = Study(DEFAULT_SCENARIO)  # the campaign week: a replication of about fifty incidents
    world = week.world()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        watching = True
        part = rep_part(week.scenario, world, "mixed", 0)
        watching = False
    finally:
        gc.callbacks.remove(seen)
    assert part["incidents"], "the replication made no incident: nothing was tested"
    assert passes == [], f"collector passes (generations {passes}) ran inside rep_part, over its live records"
    assert gc.isenabled(), "rep_part left Python's garbage collector off"
