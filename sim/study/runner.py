"""Running plans x replications until done: the one loop behind ``Study.run`` and the command
line's ``run`` (which keeps parts on disk and may add replications until the interval is narrow)."""
from __future__ import annotations

import math
import sys
import time
from typing import Sequence

from sim.study.executors import executor_label, run_tasks
from sim.study.parts import MemoryParts
from sim.study.results import Results
from sim.study.stats import comparisons, precision_reached, summaries

AUTO_BATCH_REPS = 5  # reps='auto' adds this many at a time, whatever the number of workers


class Progress:
    """Replications done, rate and time left, on stderr: a bar on a terminal, else plain lines."""

    def __init__(self, total: int, done: int, quiet: bool):
        self.total, self.done, self.quiet = total, done, quiet
        self.started = time.monotonic()
        self._last_line = 0.0
        self._new = 0
        self._bar = None
        if not quiet and sys.stderr.isatty():
            import tqdm as tqdm_module
            from tqdm import tqdm

            tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
            self._bar = tqdm(total=total, initial=done, unit="rep", file=sys.stderr, dynamic_ncols=True)

    def extend(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def step(self) -> None:
        self.done += 1
        self._new += 1
        if self._bar is not None:
            self._bar.update(1)
        elif not self.quiet:
            now = time.monotonic()
            if now - self._last_line >= 5.0 or self.done == self.total:
                self._last_line = now
                rate = self._new / max(now - self.started, 1e-9)
                left = (self.total - self.done) / rate if rate > 0 else math.inf
                print(f"  {self.done}/{self.total} replications done, {rate:.1f}/s, about {left:.0f} s left",
                      file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_plans(study, plans: Sequence[str], *, auto: bool = False, precision: float = 0.05, max_reps: int = 200,
              parts: MemoryParts | None = None, workers: int = 1, scheduler: str | None = None,
              quiet: bool = True, started: float | None = None) -> Results:
    """Run ``plans`` (names, checked; the first is the reference) of ``study`` for every replication
    of its scenario, skipping those ``parts`` already holds, and return the Results.

    With ``auto`` the scenario's replications (at most ``max_reps``) are a start: replications
    are added in batches until every plan's 95% interval on mean response is narrower than
    ``precision`` times the mean, or ``max_reps`` is reached. Progress goes to stderr unless
    ``quiet``.
    """
    started = time.perf_counter() if started is None else started
    scenario = study.scenario
    world, key = study.world(), study.world_key()
    parts = MemoryParts() if parts is None else parts
    target = scenario.target_response_min
    n_reps = min(scenario.replications, max_reps) if auto else scenario.replications
    progress = Progress(len(plans) * n_reps, 0, quiet)

    def save(part: dict) -> None:
        parts.save(part)
        progress.step()

    try:
        while True:
            todo = [(p, r) for p in plans for r in range(n_reps) if not parts.has(p, r)]
            progress.done = len(plans) * n_reps - len(todo)
            progress.extend(len(plans) * n_reps)
            run_tasks(scenario, world, key, todo, save, workers=workers, scheduler=scheduler)
            rows = parts.rows(plans, n_reps)
            summary = summaries(rows, plans, target)
            if not auto or n_reps >= max_reps or precision_reached(summary, precision):
                break
            n_reps = min(n_reps + AUTO_BATCH_REPS, max_reps)
    finally:
        progress.close()
    return Results(
        scenario=scenario, plans=list(plans), reps=n_reps, network=world.network, site_snap_m=dict(world.site_snap_m),
        rows=rows, summary_rows=summary, comparison_rows=comparisons(rows, plans, target, n_reps),
        executor=executor_label(workers, scheduler), wall_time_s=time.perf_counter() - started,
        scenario_path=study.source_path,
    )
