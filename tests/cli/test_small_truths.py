"""Small truths of what a run prints: plan names whole in the terminal table, and ``--reps auto``
progress that counts the replications it adds instead of promising an end it cannot know."""
from __future__ import annotations

import io
from pathlib import Path

from sim.study.api import Study
from sim.config.option_names import OptionNames
from sim.study.runner import Progress

ROOT = Path(__file__).resolve().parents[2]
JOINT = ROOT / "scenarios" / "jember_pilkada_2024_joint.yaml"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_terminal_table_prints_plan_names_whole_within_100_columns(cache):
    study = Study(JOINT)
    plans = [plan.name for plan in study.scenario.plans]
    longest = max(plans, key=len)
    assert len(longest) > 18, "the scenario should have a plan name longer than the old 18-character cut"
    table = study.run(plans=plans, reps=1, hours=6).table()
    for plan in plans:
        rows = [line for line in table.splitlines() if line.startswith(plan + " ")]
        assert rows, f"plan {plan!r} is not printed whole at the start of a row"
    assert max(len(line) for line in table.splitlines()) <= 100


def test_reps_auto_progress_counts_replications_added_and_bounds_the_time_left():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(total=10, done=0, quiet=False, clock=clock, stream=stream, most=400,
                        names=OptionNames(reps="--reps"))  # as the command line names it
    for batch_total in (10, 20, 30):
        progress.extend(batch_total)
        while progress.done < batch_total:
            clock.now += 6.0   # every step prints a line (more than PROGRESS_EVERY_S apart)
            progress.step()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "the first batch" in lines[0]
    assert lines[-1].startswith("  30 replications done (20 added by --reps auto so far)")
    # Never "about 1 s left" at the end of a batch: the time left is a bound, to the most --reps auto may reach.
    assert not any("about" in line for line in lines)
    assert "at most" in lines[-1] and "its 400" in lines[-1]
    # Without --reps auto the total is known: done/total and the time left, as before.
    fixed = io.StringIO()
    plain = Progress(total=2, done=0, quiet=False, clock=clock, stream=fixed)
    clock.now += 6.0
    plain.step()
    assert fixed.getvalue().startswith("  1/2 replications done") and "s left" in fixed.getvalue()
