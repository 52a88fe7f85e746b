"""The p-median program, solved exactly on large instances: bounds first, then a small MILP.

The plain assignment program (demand i to candidate c, z_ic <= x_c) has D x C variables: 4,041
polling stations x 1,000 candidates is four million, too many for HiGHS in a minute. Three exact
steps make it small (the classic route: Cornuejols, Fisher & Nemhauser 1977; Beasley 1993):

1. An upper bound UB: the greedy placement improved by swaps (one post out, one in) until no
   swap helps.
2. A lower bound from Lagrangian relaxation of "every demand point is served once" (multipliers
   lambda_i by subgradient steps); it equals the LP bound at best. It also fixes candidates: one
   whose forced opening (or closing) would push the bound above UB is in no better placement.
3. The MILP over the free candidates in the radius formulation (one variable per distinct set of
   nearest candidates, shared by the points with that set), each demand point given only the
   candidates it could use at its multiplier (w_i t_ic <= lambda_i) up to its nearest candidate
   fixed open, and beyond them costed at its next candidate: a lower bound, exact when no point
   falls beyond its list; where one does, that point gets twice the candidates and the MILP runs
   again.

Every step keeps the optimum (or the incumbent, when nothing beats it), so the answer is exact
unless the time limit stops it; then the gap between the best placement and the bound is told.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from sim.optimize.solver import run_milp

_LAGRANGE_ITERATIONS = 3000
_LAGRANGE_SHARE_OF_TIME = 0.4  # at most this share of the time limit goes to the bound
_STALL_STEPS = 20              # halve the subgradient step after this many steps without a better bound
_MIN_STEP = 1e-3               # then stop: on the benchmark the bound moves by < 0.001% after it


@dataclass(frozen=True)
class PMedianAnswer:
    """Open candidates, their cost (sum of w_i t_i, nearest open), the proven lower bound."""

    open_: np.ndarray   # bool (C,)
    cost: float
    bound: float
    proven: bool
    message: str


def assignment_cost(cost: np.ndarray, open_: np.ndarray) -> float:
    """sum_i min over open c of cost[i, c] (``cost`` = w_i t_ic)."""
    return float(cost[:, open_].min(axis=1).sum())


def _nearest_two(cost: np.ndarray, open_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per demand point: cost to the nearest open post, which post (index into open_idx), and
    cost to the second nearest (inf with one post)."""
    sub = cost[:, open_idx]
    if len(open_idx) == 1:
        return sub[:, 0], np.zeros(len(sub), dtype=np.int64), np.full(len(sub), np.inf)
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    first, second = np.take_along_axis(sub, two, axis=1).T
    swap = second < first
    nearest = np.where(swap, two[:, 1], two[:, 0])
    return np.minimum(first, second), nearest, np.maximum(first, second)


def swap_search(cost: np.ndarray, open_: np.ndarray, deadline: float) -> np.ndarray:
    """Best-improvement swaps (close one post, open another) until none lowers the cost."""
    open_ = open_.copy()
    n_dem = cost.shape[0]
    while time.perf_counter() < deadline:
        open_idx = np.flatnonzero(open_)
        d1, which, d2 = _nearest_two(cost, open_idx)
        gain_in = np.maximum(d1[:, None] - cost, 0.0).sum(axis=0)          # opening c alone
        # Closing post r after opening c: its points go to min(second nearest, c) instead of min(nearest, c).
        extra = np.minimum(d2[:, None], cost) - np.minimum(d1[:, None], cost)
        owner = sp.csr_matrix((np.ones(n_dem), (which, np.arange(n_dem))), shape=(len(open_idx), n_dem))
        loss = np.asarray(owner @ extra)                                  # (posts, C)
        delta = loss - gain_in[None, :]
        delta[:, open_] = np.inf
        r, c = np.unravel_index(np.argmin(delta), delta.shape)
        if not delta[r, c] < -1e-9 * max(1.0, float(d1.sum())):
            break
        open_[open_idx[r]] = False
        open_[c] = True
    return open_


def lagrangian_value(cost: np.ndarray, lam: np.ndarray, units: int) -> tuple[float, np.ndarray]:
    """The Lagrangian bound at multipliers ``lam`` (exact, in float64) and each candidate's rho."""
    rho = np.minimum(cost - lam[:, None], 0.0).sum(axis=0)
    return float(lam.sum() + np.partition(rho, units - 1)[:units].sum()), rho


def lagrangian_bound(cost: np.ndarray, units: int, upper: float, deadline: float, rel_gap: float
                     ) -> tuple[float, np.ndarray, list[np.ndarray]]:
    """(best bound, its multipliers, placements to start swaps from) by subgradient steps.

    ``upper`` is a known placement's cost (the steps aim at it). The steps run in float32 (half
    the memory traffic); the bound returned is computed again in float64 at the best multipliers,
    so it is a true bound. The placements: the cheapest the relaxation chose, and its choice at the
    best multipliers.
    """
    n_dem, n_cand = cost.shape
    steer = cost.astype(np.float32)
    lam = np.sort(cost, axis=1)[:, min(1, n_cand - 1)].copy()  # a common start: the second-nearest cost
    best, best_lam, best_open, seen = -np.inf, lam.copy(), None, np.inf
    step, stall = 2.0, 0
    reduced = np.empty_like(steer)
    for _ in range(_LAGRANGE_ITERATIONS):
        np.subtract(steer, lam[:, None].astype(np.float32), out=reduced)
        np.minimum(reduced, 0.0, out=reduced)
        rho = reduced.sum(axis=0, dtype=np.float64)
        chosen = np.argpartition(rho, units - 1)[:units] if units < n_cand else np.arange(n_cand)
        bound = float(lam.sum() + rho[chosen].sum())
        if bound > best + 1e-12 * abs(best if np.isfinite(best) else 1.0):
            best, best_lam, stall = bound, lam.copy(), 0
        else:
            stall += 1
            if stall >= _STALL_STEPS:
                step, stall = step / 2, 0
        open_ = np.zeros(n_cand, bool)
        open_[chosen] = True
        found = assignment_cost(cost, open_)
        if found < seen:
            seen, best_open = found, open_
        upper = min(upper, found)
        served = (reduced[:, chosen] < 0).sum(axis=1)
        subgradient = 1.0 - served
        norm = float(subgradient @ subgradient)
        if norm == 0 or step < _MIN_STEP or upper - best <= rel_gap * abs(upper) or time.perf_counter() > deadline:
            break
        lam = lam + step * (upper - bound) / norm * subgradient
    exact, rho = lagrangian_value(cost, best_lam, units)
    at_best = np.zeros(n_cand, bool)
    at_best[np.argsort(rho, kind="stable")[:units]] = True
    return exact, best_lam, [placement for placement in (best_open, at_best) if placement is not None]


def fix_candidates(cost: np.ndarray, lam: np.ndarray, units: int, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """(fixed closed, fixed open): candidates whose forced opening / closing lifts the Lagrangian
    bound above ``upper`` (so no placement cheaper than ``upper`` opens / closes them)."""
    n_cand = cost.shape[1]
    closed, opened = np.zeros(n_cand, bool), np.zeros(n_cand, bool)
    if units >= n_cand:
        return closed, np.ones(n_cand, bool)
    bound, rho = lagrangian_value(cost, lam, units)
    order = np.argsort(rho, kind="stable")
    tolerance = 1e-9 * max(abs(upper), 1.0)  # never fix away the incumbent's own posts
    inside, outside = order[:units], order[units:]
    closed[outside] = bound + rho[outside] - rho[order[units - 1]] > upper + tolerance
    opened[inside] = bound - rho[inside] + rho[order[units]] > upper + tolerance
    return closed, opened


def _level_sets(order: np.ndarray, sorted_cost: np.ndarray, keep: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct level sets of the radius formulation: for demand point i and rank j < keep[i]
    where its cost rises (sorted_cost[i, j+1] > sorted_cost[i, j]), the set of its j+1 nearest
    columns, with the rise as its cost. Sets equal for several points are one (costs summed),
    found by two random 64-bit keys per column summed along each point's order (a collision of
    both sums and the length, about one in 2^128, would merge two sets).
    Returns (cost per set, its length, the point and rank that spell it)."""
    n_dem, n_cols = order.shape
    rng = np.random.default_rng(0)
    rise = np.diff(sorted_cost, axis=1)
    rise[np.arange(n_cols - 1)[None, :] >= keep[:, None]] = 0.0
    point, rank = np.nonzero(rise > 0)
    keys = []
    for _ in range(2):
        key = rng.integers(0, np.iinfo(np.int64).max, n_cols, dtype=np.int64).astype(np.uint64)
        keys.append(np.cumsum(key[order], axis=1, dtype=np.uint64)[point, rank])
    stacked = np.column_stack([*keys, rank.astype(np.uint64)])
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    set_cost = np.bincount(inverse.ravel(), weights=rise[point, rank], minlength=len(first))
    return set_cost, rank[first] + 1, np.column_stack([point[first], rank[first]])


def _truncated_milp(cost: np.ndarray, free: np.ndarray, fixed_open: np.ndarray, keep: np.ndarray,
                    units: int, deadline: float, rel_gap: float):
    """The radius formulation (Elloumi 2010; Garcia, Labbe & Marin 2011) over ``free`` candidates
    (fixed-open ones included, forced to 1): point i's cost is its nearest cost plus, for each
    rise between its k-th and (k+1)-th nearest (k < keep[i]), the rise times z >= 1 - (units open
    among its k nearest). Cut at keep[i], the cost of a point none of whose keep[i] nearest is
    open is its (keep[i]+1)-th nearest: a lower bound, exact for every other point. Returns the
    result, the candidate indices of its columns, which points fell beyond their lists, and keep."""
    cols = np.flatnonzero(free)
    sub = cost[:, cols]
    order = np.argsort(sub, axis=1, kind="stable")
    sorted_cost = np.take_along_axis(sub, order, axis=1)
    n_cols = len(cols)
    # Beyond the nearest fixed-open candidate nothing is ever used: cut each list there (exact).
    if fixed_open[cols].any():
        first_open_rank = np.argmax(fixed_open[cols][order], axis=1)
        keep = np.minimum(keep, first_open_rank + 1)
    keep = np.clip(keep, 1, n_cols)
    set_cost, length, spelled = _level_sets(order, sorted_cost, keep)
    n_sets = len(set_cost)
    rows = np.repeat(np.arange(n_sets), length)
    offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    members = order[np.repeat(spelled[:, 0], length), offset]
    x_part = sp.csr_matrix((np.ones(len(rows)), (rows, members)), shape=(n_sets, n_cols))
    reach = sp.hstack([x_part, sp.identity(n_sets, format="csr")], format="csr")
    total = sp.csr_matrix(np.concatenate([np.ones(n_cols), np.zeros(n_sets)])[None, :])
    lower = np.concatenate([fixed_open[cols].astype(float), np.zeros(n_sets)])
    upper = np.concatenate([np.ones(n_cols), np.full(n_sets, np.inf)])
    result = run_milp(np.concatenate([np.zeros(n_cols), set_cost]),
                      np.concatenate([np.ones(n_cols), np.zeros(n_sets)]), Bounds(lower, upper),
                      [LinearConstraint(reach, 1.0, np.inf), LinearConstraint(total, units, units)], deadline, rel_gap)
    used = np.zeros(len(sub), bool)
    if result.x is not None:
        is_open = np.rint(result.x[:n_cols]) > 0
        first_open = np.argmax(is_open[order], axis=1)
        used = first_open >= keep
    nearest = float(sorted_cost[:, 0].sum())
    result = replace(result, fun=None if result.fun is None else result.fun + nearest,
                     dual_bound=None if result.dual_bound is None else result.dual_bound + nearest)
    return result, cols, used, keep


def milp_stage(cost: np.ndarray, units: int, closed: np.ndarray, opened: np.ndarray, keep: np.ndarray,
               incumbent: np.ndarray, lower: float, deadline: float, rel_gap: float,
               lam: np.ndarray | None = None) -> PMedianAnswer:
    """Step 3: the reduced MILP, again with more candidates where a slack was used, until exact
    (or out of time). ``incumbent`` (bool) is the best placement known; ``lower`` a proven bound;
    with the multipliers ``lam``, a better incumbent fixes more candidates for the next round."""
    best_open, upper = incumbent, assignment_cost(cost, incumbent)
    keep, closed, opened, proven, message = keep.copy(), closed.copy(), opened.copy(), False, "not run"
    while True:
        result, cols, used, keep = _truncated_milp(cost, ~closed, opened, keep, units, deadline, rel_gap)
        message = str(result.message)
        # A program the time limit stopped holds what the machine's speed let it find: keep the
        # placement known so far, so the same scenario gives the same plan.
        if result.x is None or result.status != 0:
            lower = max(lower, min(upper, float(result.dual_bound))) if result.dual_bound is not None else lower
            break
        open_ = np.zeros(cost.shape[1], bool)
        open_[cols[np.rint(result.x[:len(cols)]) > 0]] = True
        improved = assignment_cost(cost, open_) < upper
        if improved:
            best_open, upper = open_, assignment_cost(cost, open_)
        milp_bound = result.dual_bound if result.dual_bound is not None else -np.inf
        # The reduced program holds every placement cheaper than the incumbent: its bound
        # counts up to the incumbent's cost.
        lower = max(lower, min(upper, float(milp_bound)))
        proven = result.status == 0 and (not used.any() or upper - lower <= rel_gap * abs(upper))
        if proven or result.status != 0 or time.perf_counter() >= deadline:
            break
        # keep[i] counts demand point i's nearest free candidates: map it to candidate indices
        # first, since fixing more candidates renumbers the free columns.
        reach = np.take_along_axis(np.argsort(cost[:, cols], axis=1, kind="stable"),
                                   np.minimum(2 * keep, len(cols))[:, None] - 1, axis=1)[:, 0]
        if improved and lam is not None:
            more_closed, more_opened = fix_candidates(cost, lam, units, upper)
            closed, opened = closed | more_closed, opened | more_opened
        limit = cost[np.arange(len(cost)), cols[reach]]
        wider = (cost[:, ~closed] <= limit[:, None]).sum(axis=1)
        keep = np.where(used, np.maximum(wider, 1), keep)
    return PMedianAnswer(best_open, upper, min(lower, upper), proven, message)


def solve_pmedian_cost(cost: np.ndarray, units: int, start: np.ndarray, time_limit_s: float,
                       rel_gap: float) -> PMedianAnswer:
    """Exact p-median on ``cost`` (D x C, w_i t_ic, finite), from the placement ``start`` (bool)."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    best_open = swap_search(cost, start, started + 0.2 * time_limit_s)
    upper = assignment_cost(cost, best_open)
    lower, lam, starts = lagrangian_bound(cost, units, upper, started + _LAGRANGE_SHARE_OF_TIME * time_limit_s,
                                          rel_gap)
    for placement in starts:  # the relaxation's placements are often better starts for swaps
        found = swap_search(cost, placement, deadline)
        if assignment_cost(cost, found) < upper:
            best_open, upper = found, assignment_cost(cost, found)
    if upper - lower <= rel_gap * abs(upper):
        return PMedianAnswer(best_open, upper, min(lower, upper), True, "the swap search met the Lagrangian bound")
    closed, opened = fix_candidates(cost, lam, units, upper)
    keep = np.maximum((cost <= lam[:, None])[:, ~closed].sum(axis=1), 1)
    return milp_stage(cost, units, closed, opened, keep, best_open, lower, deadline, rel_gap, lam)
