"""The location programs: MCLP, MEXCLP and p-median as integer programs (scipy's HiGHS), and the
greedy placement beside them. Pure numpy/scipy: an ``Instance`` is demand weights and a matrix of
travel minutes, nothing of the road network or the scenario.

- MCLP (Church & ReVelle 1974): maximise the demand within ``target_min`` of at least one post.
- MEXCLP (Daskin 1983): maximise the expected covered demand when each unit is busy with
  probability ``busy``: a site covered by n units is covered with probability 1 - busy**n. Units
  may share a post (Daskin's formulation), since a second car at a busy spot adds cover.
- p-median (Hakimi 1964; ReVelle & Swain 1970): minimise the demand-weighted travel minutes from
  the nearest post.

Each program is solved exactly (to HiGHS's relative gap ``rel_gap``) unless the time limit stops
it first; the ``Solution`` says which, and the gap. The covering programs are made small first
(``sim.optimize.coverage``), the p-median by bounds (``sim.optimize.pmedian``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from sim.optimize.coverage import CoverAnswer, Reduced, reduce, solve_cover
from sim.optimize.metrics import Instance, cover_value, greedy_median, mean_travel_min
from sim.optimize.pmedian import solve_pmedian_cost
from sim.optimize.solver import SOLVER
DEFAULT_REL_GAP = 1e-6
_TIE_BREAK_SHARE = 0.25  # of the time limit, at least, for MCLP's backup stage


@dataclass(frozen=True)
class Solution:
    """Where the units stand (``counts[c]`` units at candidate c) and how sure the solver is."""

    objective: str
    counts: np.ndarray      # int (C,)
    value: float            # the program's objective, as the metrics compute it for ``counts``
    bound: float            # the best bound proven on the optimum (same sense as value)
    optimal: bool           # proven within ``rel_gap``
    gap: float              # |value - bound| / |value| (0 when the bound is met)
    seconds: float
    solver: str
    message: str

    @property
    def posts(self) -> list[int]:
        """Candidate indices, one per unit (repeated when units share a post), sorted."""
        return [int(c) for c in np.repeat(np.arange(len(self.counts)), self.counts)]


def _relative_gap(value: float, bound: float) -> float:
    if value == bound:
        return 0.0
    return abs(value - bound) / max(abs(value), 1e-12)


def _check(instance: Instance, units: int) -> None:
    if units < 1 or units > instance.n_candidates:
        raise ValueError(f"{units} units for {instance.n_candidates} candidates: 1..{instance.n_candidates}")


def _merge_rows(matrix: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand points with equal rows (e.g. sites on one road node) as one point of summed weight:
    every objective here sees a demand point only through its row."""
    keep = weight > 0
    matrix, weight = matrix[keep], weight[keep]
    if len(weight) == 0:
        return matrix, weight
    rows, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return rows, np.bincount(inverse.ravel(), weights=weight, minlength=len(rows))


# -- MCLP and MEXCLP -----------------------------------------------------------------------------------


def _cover_solution(instance: Instance, objective: str, reduced: Reduced, answer: CoverAnswer, levels: np.ndarray,
                    started: float) -> Solution:
    """A Solution in shares of the total demand weight, from an answer on reduced data."""
    counts = reduced.counts(answer.counts, instance.n_candidates)
    total = instance.total_weight
    value = cover_value(instance, counts, levels)
    bound = max(answer.bound / total, value) if total > 0 else value
    return Solution(objective, counts, value, bound, answer.proven, _relative_gap(value, bound),
                    time.perf_counter() - started, SOLVER, answer.message)


def solve_mclp(instance: Instance, units: int, *, time_limit_s: float = 60.0,
               rel_gap: float = DEFAULT_REL_GAP, tie_break: bool = True) -> Solution:
    """MCLP: ``units`` posts (one unit each) covering the most demand within the target.

    Many placements often cover the same demand; with ``tie_break`` a second program picks,
    among them, one with the most backup coverage (demand within the target of a second post,
    as in Hogan & ReVelle 1986), so spare units go where a second car helps most.
    """
    _check(instance, units)
    started = time.perf_counter()
    deadline = started + time_limit_s
    one = np.ones(1)
    reduced = _reduced(instance, 1, False)
    answer = solve_cover(reduced, units, one, False, deadline, rel_gap)
    first = _cover_solution(instance, "mclp", reduced, answer, one, started)
    first = _fill(first, units)
    if not tie_break or not first.optimal or units < 2 or time.perf_counter() >= deadline:
        return first
    backup = _reduced(instance, 2, False)
    covered = cover_value(instance, first.counts, one) * instance.total_weight
    # Within the solver's tolerance of the best cover, never below the first program's own answer.
    floor = covered - 1e-9 * max(covered, 1.0)
    start = _on_columns(backup, first.counts)
    # A tie-break: at most as long again as the first program took, and a share of the limit.
    tie_deadline = min(deadline, time.perf_counter() + max(first.seconds, _TIE_BREAK_SHARE * time_limit_s))
    second = solve_cover(backup, units, np.ones(2), False, tie_deadline, rel_gap, floor=floor, start=start)
    counts = _fill(replace(first, counts=backup.counts(second.counts, instance.n_candidates)), units).counts
    if cover_value(instance, counts, one) < first.value - 1e-12:
        return replace(first, seconds=time.perf_counter() - started)
    how = "proven" if second.proven else "best found in the time limit"
    return replace(first, counts=counts, seconds=time.perf_counter() - started,
                   message=f"{first.message}; ties broken by backup coverage ({how}): {second.message}")


def _reduced(instance: Instance, levels: int, stack: bool) -> Reduced:
    """The covering reductions of an instance, made once for every fleet size asked of it."""
    key = ("cover", 1 if stack else levels, stack)
    if key not in instance.memo:
        instance.memo[key] = reduce(instance.covers, instance.weight, levels, stack)
    return instance.memo[key]


def _on_columns(reduced: Reduced, counts: np.ndarray) -> np.ndarray | None:
    """``counts`` over the kept columns of ``reduced``, or None when a unit stands elsewhere."""
    kept = counts[reduced.columns]
    return kept if kept.sum() == counts.sum() else None


def _fill(solution: Solution, units: int) -> Solution:
    """Units left over by the reductions (more units than useful posts) go to the first free posts."""
    counts = solution.counts.copy()
    free = np.flatnonzero(counts == 0)[:max(units - int(counts.sum()), 0)]
    counts[free] = 1
    return replace(solution, counts=counts)


def solve_mexclp(instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
                 rel_gap: float = DEFAULT_REL_GAP) -> Solution:
    """MEXCLP: ``units`` units (posts may be shared) maximising expected covered demand."""
    if not 0.0 <= busy < 1.0:
        raise ValueError(f"busy probability {busy}: must be in [0, 1)")
    _check(instance, units)
    started = time.perf_counter()
    levels = mexclp_levels(units, busy)
    reduced = _reduced(instance, len(levels), True)
    answer = solve_cover(reduced, units, levels, True, started + time_limit_s, rel_gap)
    solution = _cover_solution(instance, "mexclp", reduced, answer, levels, started)
    if solution.counts.sum() < units:  # no demand in reach: any post will do
        solution = _fill(solution, units)
    return solution


def mexclp_levels(units: int, busy: float) -> np.ndarray:
    """The value of a point's 1st, 2nd, ... covering unit: (1 - q) q^(k-1); those that underflow
    to 0 add nothing and only grow the program."""
    levels = (1.0 - busy) * busy ** np.arange(units)
    return levels[levels > 0] if busy > 0 else levels[:1]


# -- p-median --------------------------------------------------------------------------------------------


def solve_pmedian(instance: Instance, units: int, *, time_limit_s: float = 60.0,
                  rel_gap: float = DEFAULT_REL_GAP) -> Solution:
    """p-median: ``units`` posts minimising demand-weighted travel minutes from the nearest post
    (bounds, fixing and a reduced MILP: ``sim.optimize.pmedian``)."""
    _check(instance, units)
    if not np.isfinite(instance.travel_min[instance.weight > 0]).all():
        raise ValueError("p-median needs a travel time from every candidate to every demand point")
    started = time.perf_counter()
    time_min, weight = _merge_rows(instance.travel_min, instance.weight)
    total = instance.total_weight
    if total <= 0:
        counts = np.zeros(instance.n_candidates, dtype=np.int64)
        counts[:units] = 1
        return Solution("pmedian", counts, 0.0, 0.0, True, 0.0, time.perf_counter() - started, SOLVER,
                        "no demand: any placement is optimal")
    start = greedy_median(Instance(weight, time_min, instance.target_min), units) > 0
    answer = solve_pmedian_cost(weight[:, None] * time_min, units, start, time_limit_s, rel_gap)
    counts = answer.open_.astype(np.int64)
    value = mean_travel_min(instance, counts)
    bound = answer.bound / total
    return Solution("pmedian", counts, value, bound, answer.proven, _relative_gap(value, bound),
                    time.perf_counter() - started, SOLVER, answer.message)
