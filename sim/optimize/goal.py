"""The smallest fleet for a goal: the fewest units whose simulated share within target reaches it.

Each fleet size tried is placed by the exact program (the objective asked), its units based as
asked, and simulated for the verification's replications with the scenario's seed, so every size
sees the same incidents (common random numbers). The share counted is that of the goal's
incidents (at sites of a kind, or of a type, or all): per replication, the counted incidents
reached within the target over all of them (never reached counts as late), then the mean over
replications with its 95% Student-t interval, cut to [0, 1]. A size meets the goal when the
interval's lower bound reaches it (``rule="lower"``, the default) or its mean does.

The search (``search``) needs few simulated sizes: it starts where a model says the goal is
first reached, goes up (by the secant through the last two sizes, at most four times the last
step) or down (in doubling steps) until the rule is met on one side and failed on the other,
then narrows the bracket by interpolating the simulated values (a bisection every other step, so
it halves at least every two). The simulated share rises with the fleet in expectation but not always in one
run (other posts, chance); the answer is the smallest size that meets the rule whose next
smaller size was simulated and fails, and every pair out of order among the sizes simulated is
reported.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.study.stats import mean_ci95


@dataclass(frozen=True)
class Tried:
    """One fleet size simulated: its share per replication, their mean and 95% interval."""

    units: int
    plan: str
    shares: dict[int, float]   # replication -> share of the goal's incidents within target (NaN: none)
    incidents: int             # the goal's counted incidents over every replication
    mean: float
    half: float
    rule_value: float          # the interval's lower bound or the mean: what the rule compares
    meets: bool

    @property
    def lower(self) -> float:
        return max(self.mean - self.half, 0.0) if not math.isnan(self.half) else self.mean

    @property
    def upper(self) -> float:
        return min(self.mean + self.half, 1.0) if not math.isnan(self.half) else self.mean


def rep_shares(incident_rows: Sequence[dict], reps: int, target_min: float,
               select: Callable[[dict], bool]) -> tuple[dict[int, float], int]:
    """Per replication: the share of the selected counted incidents reached within the target
    (NaN for a replication without any), and how many there were in all."""
    within = np.zeros(reps)
    total = np.zeros(reps)
    for row in incident_rows:
        if row["counted"] and select(row):
            total[row["rep"]] += 1
            response = row["response_min"]
            within[row["rep"]] += response is not None and response <= target_min
    shares = {rep: float(within[rep] / total[rep]) if total[rep] else math.nan for rep in range(reps)}
    return shares, int(total.sum())


def judged(units: int, plan: str, shares: dict[int, float], incidents: int, goal: float, rule: str) -> Tried:
    """A size's figures and whether it meets ``goal`` by ``rule`` ("lower" or "mean")."""
    mean, half = mean_ci95(list(shares.values()))
    lower = max(mean - half, 0.0) if not math.isnan(half) else mean
    value = lower if rule == "lower" else mean
    return Tried(units, plan, shares, incidents, mean, half, value, bool(value >= goal))


def model_start(sizes: Sequence[int], covered_by_size: Callable[[int], float], goal: float) -> int:
    """The first size to simulate: the smallest whose model share reaches the goal (the largest
    when none does)."""
    return next((n for n in sizes if covered_by_size(n) >= goal), sizes[-1])


@dataclass(frozen=True)
class Search:
    """What the search found: the answer (None when no size in range meets the goal), every size
    simulated in order of size, and the pairs out of order (a larger size that fails)."""

    answer: int | None
    tried: list[Tried]
    out_of_order: list[tuple[int, int]]


def search(sizes: Sequence[int], start: int, evaluate: Callable[[int], Tried], goal: float) -> Search:
    """The smallest size in ``sizes`` (consecutive) that meets the goal, from ``start`` (see the
    module's docstring). ``evaluate(n)`` simulates size n."""
    low, high = sizes[0], sizes[-1]
    seen: dict[int, Tried] = {}
    fail: int | None = None       # the largest size known to fail
    meet: int | None = None       # the smallest size known to meet
    probe, step, interpolate = start, 1, True
    while True:
        tried = seen[probe] = evaluate(probe)
        if tried.meets:
            meet = probe if meet is None else min(meet, probe)
        else:
            fail = probe if fail is None else max(fail, probe)
        if meet is not None and (meet == low or fail == meet - 1):
            break
        if meet is None and fail == high:
            break
        if meet is None:                      # still below the goal: up, by the secant when it rises
            below = sorted(n for n in seen if n < fail and not seen[n].meets)
            jump = step
            if below and seen[fail].rule_value > seen[below[-1]].rule_value:
                slope = (seen[fail].rule_value - seen[below[-1]].rule_value) / (fail - below[-1])
                jump = min(max(math.ceil((goal - seen[fail].rule_value) / slope), 1), 4 * step)
            probe, step = min(fail + jump, high), max(jump, 1)
        elif fail is None:                    # nothing fails yet: down, in growing steps
            probe, step = max(meet - step, low), step * 2
        else:                                 # a bracket: interpolate, then bisect, in turn
            a, b = seen[fail], seen[meet]
            if interpolate and b.rule_value > a.rule_value:
                guess = fail + (goal - a.rule_value) / (b.rule_value - a.rule_value) * (meet - fail)
                probe = int(min(max(math.ceil(guess), fail + 1), meet - 1))
            else:
                probe = (fail + meet) // 2
            interpolate = not interpolate
    ordered = [seen[n] for n in sorted(seen)]
    out = [(a.units, b.units) for a in ordered for b in ordered if a.units < b.units and a.meets and not b.meets]
    return Search(meet if meet is not None and (meet == low or fail == meet - 1) else None, ordered, out)
