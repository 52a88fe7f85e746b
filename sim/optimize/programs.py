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
it first; the ``Solution`` says which, and the gap.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.optimize.metrics import Instance, greedy, objective_value
from sim.optimize.pmedian import solve_pmedian_cost

OBJECTIVES = ("mclp", "mexclp", "pmedian")
SOLVER = f"HiGHS (scipy.optimize.milp, scipy {scipy.__version__})"
DEFAULT_REL_GAP = 1e-6


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


def _check(instance: Instance, units: int, objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}: one of {', '.join(OBJECTIVES)}")
    if units < 1 or units > instance.n_candidates:
        raise ValueError(f"{units} units for {instance.n_candidates} candidates: 1..{instance.n_candidates}")


# -- reductions that keep the optimum ---------------------------------------------------------------


def _merge_rows(matrix: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand points with equal rows (e.g. sites on one road node) as one point of summed weight:
    every objective here sees a demand point only through its row."""
    keep = weight > 0
    matrix, weight = matrix[keep], weight[keep]
    if len(weight) == 0:
        return matrix, weight
    rows, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return rows, np.bincount(inverse.ravel(), weights=weight, minlength=len(rows))


def _run_milp(cost: np.ndarray, integrality: np.ndarray, bounds: Bounds, constraints: list,
              time_limit_s: float, rel_gap: float):
    return milp(cost, integrality=integrality, bounds=bounds, constraints=constraints,
                options={"time_limit": float(time_limit_s), "mip_rel_gap": float(rel_gap), "disp": False})


def _counts_from(x: np.ndarray, n_candidates: int) -> np.ndarray:
    return np.rint(x[:n_candidates]).astype(np.int64)


# -- MCLP and MEXCLP -----------------------------------------------------------------------------------


def _coverage_program(instance: Instance, units: int, levels: np.ndarray, stack: bool,
                      time_limit_s: float, rel_gap: float, floor: float | None = None):
    """max sum_i w_i sum_k levels[k] y_ik  s.t.  sum_k y_ik <= sum_c a_ic x_c,  sum_c x_c = units.

    ``levels`` are the values of a site's 1st, 2nd, ... covering unit (MCLP: [1]; MEXCLP:
    (1 - q) q^(k-1)); they do not increase, so the y of a site fill from the first level and may
    be continuous in [0, 1]. ``stack``: a candidate may hold several units. ``floor``: the first
    level must cover at least this much demand (in weight), and each level only where the one
    before it does (MCLP's tie-break stage).
    """
    cover, weight = _merge_rows(instance.covers.astype(np.int8), instance.weight)
    covered = cover.any(axis=1)  # a site no candidate reaches adds nothing: leave it out
    cover, weight = cover[covered], weight[covered]
    n_cand, n_dem, n_lev = instance.n_candidates, len(weight), len(levels)
    n_var = n_cand + n_dem * n_lev
    cost = np.concatenate([np.zeros(n_cand), -np.kron(weight, levels)])
    # rows i: sum_k y_ik - sum_c a_ic x_c <= 0
    a = sp.csr_matrix(cover.astype(np.float64))
    y_block = sp.kron(sp.identity(n_dem, format="csr"), np.ones((1, n_lev)), format="csr")
    linking = sp.hstack([-a, y_block], format="csr")
    total = sp.csr_matrix(np.concatenate([np.ones(n_cand), np.zeros(n_dem * n_lev)])[None, :])
    constraints = [LinearConstraint(linking, -np.inf, 0.0), LinearConstraint(total, units, units)]
    if floor is not None:
        first = np.zeros(n_var)
        first[n_cand + n_lev * np.arange(n_dem)] = weight
        constraints.append(LinearConstraint(sp.csr_matrix(first[None, :]), floor, np.inf))
        # y_i,k+1 <= y_ik: a backup counts only where there is a first cover
        rows = np.repeat(np.arange(n_dem * (n_lev - 1)), 2)
        later = n_cand + (np.arange(n_dem)[:, None] * n_lev + np.arange(1, n_lev)[None, :]).ravel()
        cols = np.column_stack([later, later - 1]).ravel()
        order = sp.csr_matrix((np.tile([1.0, -1.0], n_dem * (n_lev - 1)), (rows, cols)),
                              shape=(n_dem * (n_lev - 1), n_var))
        constraints.append(LinearConstraint(order, -np.inf, 0.0))
    upper = np.concatenate([np.full(n_cand, units if stack else 1), np.ones(n_dem * n_lev)])
    integrality = np.concatenate([np.ones(n_cand), np.zeros(n_dem * n_lev)])
    return _run_milp(cost, integrality, Bounds(0, upper), constraints, time_limit_s, rel_gap)


def solve_mclp(instance: Instance, units: int, *, time_limit_s: float = 60.0,
               rel_gap: float = DEFAULT_REL_GAP, tie_break: bool = True) -> Solution:
    """MCLP: ``units`` posts (one unit each) covering the most demand within the target.

    Many placements often cover the same demand; with ``tie_break`` a second program picks,
    among them, one with the most backup coverage (demand within the target of a second post,
    as in Hogan & ReVelle 1986), so spare units go where a second car helps most.
    """
    first = _solve_coverage(instance, units, "mclp", np.ones(1), False, 0.0, time_limit_s, rel_gap)
    remaining = time_limit_s - first.seconds
    if not tie_break or not first.optimal or units < 2 or remaining <= 0:
        return first
    started = time.perf_counter()
    covered = float(instance.weight @ instance.covers[:, first.counts > 0].any(axis=1))
    # Within the solver's tolerance of the best cover, never below the first program's own answer.
    floor = covered - 1e-9 * max(covered, 1.0)
    result = _coverage_program(instance, units, np.ones(2), False, remaining, rel_gap, floor=floor)
    if result.x is None:
        return first
    counts = _counts_from(result.x, instance.n_candidates)
    if objective_value(instance, counts, "mclp", 0.0) < first.value - 1e-12:
        return first
    return replace(first, counts=counts, seconds=first.seconds + time.perf_counter() - started,
                   message=f"{first.message}; ties broken by backup coverage: {result.message}")


def solve_mexclp(instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
                 rel_gap: float = DEFAULT_REL_GAP) -> Solution:
    """MEXCLP: ``units`` units (posts may be shared) maximising expected covered demand."""
    if not 0.0 <= busy < 1.0:
        raise ValueError(f"busy probability {busy}: must be in [0, 1)")
    levels = (1.0 - busy) * busy ** np.arange(units)
    # Levels that underflow to 0 add nothing and only grow the program.
    levels = levels[levels > 0] if busy > 0 else levels[:1]
    return _solve_coverage(instance, units, "mexclp", levels, True, busy, time_limit_s, rel_gap)


def _solve_coverage(instance: Instance, units: int, objective: str, levels: np.ndarray, stack: bool, busy: float,
                    time_limit_s: float, rel_gap: float) -> Solution:
    _check(instance, units, objective)
    started = time.perf_counter()
    result = _coverage_program(instance, units, levels, stack, time_limit_s, rel_gap)
    total = float(instance.weight.sum())
    message = str(result.message)
    if result.x is None:
        # Out of time before any integer placement: the greedy one, with the bound the solver has.
        counts = greedy(instance, units, objective, busy)
        message = f"{message}; no integer placement in time: the greedy placement is given"
    else:
        counts = _counts_from(result.x, instance.n_candidates)
    # The program's value is in demand weight; report shares, as the metrics do.
    value = objective_value(instance, counts, objective, busy)
    bound_raw = result.mip_dual_bound if result.mip_dual_bound is not None else result.fun
    bound = -float(bound_raw) / total if total > 0 and bound_raw is not None else 1.0  # a share is at most 1
    bound = max(bound, value)
    proven = result.status == 0 and result.x is not None
    return Solution(objective, counts, value, bound, proven, _relative_gap(value, bound),
                    time.perf_counter() - started, SOLVER, message)


# -- p-median --------------------------------------------------------------------------------------------


def solve_pmedian(instance: Instance, units: int, *, time_limit_s: float = 60.0,
                  rel_gap: float = DEFAULT_REL_GAP) -> Solution:
    """p-median: ``units`` posts minimising demand-weighted travel minutes from the nearest post
    (bounds, fixing and a reduced MILP: ``sim.optimize.pmedian``)."""
    _check(instance, units, "pmedian")
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
    start = greedy(Instance(weight, time_min, instance.target_min), units, "pmedian") > 0
    answer = solve_pmedian_cost(weight[:, None] * time_min, units, start, time_limit_s, rel_gap)
    counts = answer.open_.astype(np.int64)
    value = objective_value(instance, counts, "pmedian", 0.0)
    bound = answer.bound / total
    return Solution("pmedian", counts, value, bound, answer.proven, _relative_gap(value, bound),
                    time.perf_counter() - started, SOLVER, answer.message)


def solve(instance: Instance, units: int, objective: str, busy: float = 0.0, *, time_limit_s: float = 60.0,
          rel_gap: float = DEFAULT_REL_GAP) -> Solution:
    """The integer program of ``objective`` ("mclp", "mexclp" or "pmedian")."""
    _check(instance, units, objective)
    if objective == "mclp":
        return solve_mclp(instance, units, time_limit_s=time_limit_s, rel_gap=rel_gap)
    if objective == "mexclp":
        return solve_mexclp(instance, units, busy, time_limit_s=time_limit_s, rel_gap=rel_gap)
    return solve_pmedian(instance, units, time_limit_s=time_limit_s, rel_gap=rel_gap)
