"""Running plans x replications until done: the one loop behind ``Study.run`` and the command
line's ``run`` (which keeps parts on disk and may add replications until the interval is narrow)."""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, Sequence

from sim.config.option_names import API_NAMES, OptionNames
from sim.study.executors import executor_label, run_tasks
from sim.study.options import RunOptions
from sim.study.parts import MemoryParts
from sim.study.result_notes import precision_note
from sim.study.results import Results
from sim.study.stats import comparisons, precision_reached, relative_precision, summaries

AUTO_BATCH_REPS = 5  # reps='auto' adds this many at a time, whatever the number of workers
PROGRESS_EVERY_S = 5.0  # without a terminal (a log file, CI), at most one progress line this often


class Progress:
    """Replications done, rate and time left, on stderr: a bar when stderr is a terminal, else
    plain lines, at most one every PROGRESS_EVERY_S seconds plus one at the end, so a log file
    stays short. With ``most`` (automatic replications: the replications they may reach) the total
    grows batch by batch, so the lines count the replications added and give the time left only as
    a bound (to ``most``), never the time to the end of the batch. ``names`` say how the user gives
    the options; ``clock`` (seconds, monotonic) and ``stream`` are there for tests."""

    def __init__(self, total: int, done: int, quiet: bool, clock=time.monotonic, stream=None,
                 most: int | None = None, names: OptionNames = API_NAMES):
        self.total, self.done, self.quiet, self.most, self.names = total, done, quiet, most, names
        self.first_total = total
        self.clock, self.stream = clock, stream or sys.stderr
        self.started = clock()
        self._last_line = -math.inf
        self._shown = -1   # the `done` of the last line printed
        self._new = 0
        self._bar = None
        if not quiet and self.stream.isatty():
            import tqdm as tqdm_module
            from tqdm import tqdm

            tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
            self._bar = tqdm(total=total, initial=done, unit="rep", file=self.stream, dynamic_ncols=True)

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
        elif not self.quiet and self.clock() - self._last_line >= PROGRESS_EVERY_S:
            self._line()

    def _line(self) -> None:
        now = self._last_line = self.clock()
        self._shown = self.done
        rate = self._new / max(now - self.started, 1e-9)
        if self.most is None:
            left = (self.total - self.done) / rate if rate > 0 else math.inf
            print(f"  {self.done}/{self.total} replications done, {rate:.1f}/s, about {left:.0f} s left",
                  file=self.stream, flush=True)
            return
        added = max(self.total - self.first_total, 0)
        bound = (self.most - self.done) / rate if rate > 0 else math.inf
        auto = f"{self.names.reps} auto"
        batch = f"{added:,} added by {auto} so far" if added else "the first batch"
        print(f"  {self.done:,} replications done ({batch}), {rate:.1f}/s; at most {bound:.0f} s left "
              f"(if {auto} runs to its {self.most:,})", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif not self.quiet and self._new and self._shown != self.done:
            self._line()   # the final count, whenever the last line was


def replication_counts(start: int, max_reps: int) -> list[int]:
    """The replication counts ``reps="auto"`` tries in turn: ``start``, then AUTO_BATCH_REPS more at a
    time, ``max_reps`` last. A finite list, so no stop rule can make the loop run for ever."""
    return [*range(min(start, max_reps), max_reps, AUTO_BATCH_REPS), max_reps]


def run_plans(study, plans: Sequence[str], options: RunOptions | None = None, parts: MemoryParts | None = None,
              started: float | None = None, meanwhile: Callable[[], object] | None = None) -> Results:
    """Run ``plans`` (names, checked; the first is the reference) of ``study`` for every replication
    of its scenario, skipping those ``parts`` already holds, and return the Results.

    With ``options.auto`` the scenario's replications (at most ``max_reps``) are a start:
    replications are added in batches until every plan's 95% interval on mean response is narrower
    than ``precision`` times the mean, or ``max_reps`` is reached; the Results' ``precision`` says
    which, per plan, and a stop at ``max_reps`` short of the aim is warned about on stderr with
    ``progress`` (without it the table says it). Progress goes to stderr with ``progress``.
    ``meanwhile``: work for this process while the first replications run on others (run_tasks).
    """
    started = time.perf_counter() if started is None else started
    options = RunOptions() if options is None else options
    scenario = study.scenario
    world, key = study.world(), study.world_key()
    parts = MemoryParts() if parts is None else parts
    target = scenario.target_response_min
    counts = replication_counts(scenario.replications, options.max_reps) if options.auto \
        else [scenario.replications]
    progress = Progress(len(plans) * counts[0], 0, not options.progress,
                        most=len(plans) * options.max_reps if options.auto else None, names=options.names)
    try:
        for n_reps in counts:
            todo = [(p, r) for p in plans for r in range(n_reps) if not parts.has(p, r)]
            progress.done = len(plans) * n_reps - len(todo)
            progress.extend(len(plans) * n_reps)
            run_tasks(scenario, world, key, todo, lambda part: (parts.save(part), progress.step()),
                      workers=options.workers, scheduler=options.scheduler,
                      scheduler_timeout_s=options.scheduler_wait_s, cache=getattr(study, "cache", None),
                      names=options.names, event_effects=options.event_effects,
                      meanwhile=meanwhile)
            meanwhile = None  # once
            rows = parts.rows(plans, n_reps)
            summary = summaries(rows, plans, target)
            if options.auto and precision_reached(summary, options.precision):
                break
    finally:
        progress.close()
    reached = precision_block(summary, options.precision, options.max_reps, n_reps) if options.auto else None
    results = Results(
        scenario=scenario, plans=list(plans), reps=n_reps, network=world.network, site_snap_m=dict(world.site_snap_m),
        site_node=dict(world.site_node),
        rows=rows, summary_rows=summary, comparison_rows=comparisons(rows, plans, target, n_reps),
        executor=executor_label(options.workers, options.scheduler), wall_time_s=time.perf_counter() - started,
        scenario_path=study.source_path, precision=reached,
        event_figures=parts.event_figures(plans, n_reps) if scenario.events else None,
    )
    if reached is not None and not reached["reached"] and options.progress:
        print(precision_note(reached, options.names), file=sys.stderr, flush=True)
    return results


def precision_block(summary: list[dict], aim: float, max_reps: int, reps: int) -> dict:
    """The manifest's ``precision``: the aim (95% half-width on mean response as a share of the
    mean), the replications run, whether every plan reached it, whether --max-reps stopped the
    run short, and each plan's share reached (None without an interval)."""
    shares = relative_precision(summary)
    reached = precision_reached(summary, aim)
    return {
        "aim_share": aim,
        "max_reps": max_reps,
        "replications": reps,
        "reached": reached,
        "stopped_by_max_reps": not reached and reps >= max_reps,
        "per_plan": {plan: None if math.isnan(share) else round(share, 4) for plan, share in shares.items()},
    }
