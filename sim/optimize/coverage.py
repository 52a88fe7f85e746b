"""The covering programs (MCLP, MEXCLP, MCLP's backup stage) made small and solved fast, exactly.

A covering program values a placement through ``cover[i, c]`` (candidate c reaches demand point i
within the target) only: point i, covered by n units, adds ``weight[i] * (levels[0] + ... +
levels[n-1])``, ``levels`` not increasing. Three exact steps before any integer program:

1. Reductions that keep the optimum. Points with equal cover rows are one point of summed weight;
   points no candidate reaches add nothing. A candidate whose cover set lies inside those of
   ``L`` other kept candidates (``L`` = the number of levels; 1 when units may share a post) is
   never needed: swap it for a dominating candidate that is closed, or, when all of them are
   open, the point it covers already has every level it can count (keeping a copy of each set of
   equal columns up to ``L``).
2. A placement by greedy steps, improved by swaps (one post out, one in) while a swap helps,
   and the simple bound: every point counted at every level it could reach. When the placement
   meets the bound it is optimal and no integer program runs (a large fleet often covers all).
3. Otherwise the integer program (HiGHS) on the reduced data. When the time limit stops it, the
   placement of step 2 is the answer, with the program's bound: what the solver holds at that
   moment depends on the machine, and the same scenario must give the same plan. MCLP's backup stage,
   when the first covers every point, is a program of one row per point (the first cover
   follows from the second).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from sim.optimize.solver import ProgramResult, run_milp

_BLOCK = 512  # columns per block of the dominance test: block x columns overlaps in memory


@dataclass(frozen=True)
class Reduced:
    """A covering program after step 1: ``cover`` (points x kept columns), the points' summed
    weights, and each kept column's candidate index."""

    cover: np.ndarray     # bool (R, K)
    weight: np.ndarray    # float (R,)
    columns: np.ndarray   # int (K,), into the original candidates

    def counts(self, kept_counts: np.ndarray, n_candidates: int) -> np.ndarray:
        """Counts over the original candidates from counts over the kept columns."""
        out = np.zeros(n_candidates, dtype=np.int64)
        np.add.at(out, self.columns, np.asarray(kept_counts, dtype=np.int64))
        return out


def unique_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(index of each distinct row's first occurrence, its count, each row's distinct index) of a
    bool matrix, rows compared as packed bits (far faster than ``np.unique(axis=0)``)."""
    packed = np.ascontiguousarray(np.packbits(matrix, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse, count = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")       # distinct rows in order of first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], count[order], rank[inverse.ravel()], order


def merge_rows(cover: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points with weight, reached by some column, equal rows merged (weights summed)."""
    keep = (weight > 0) & cover.any(axis=1)
    cover, weight = cover[keep], weight[keep]
    if len(weight) == 0:
        return cover, weight
    first, _, inverse, _ = unique_rows(cover)
    return cover[first], np.bincount(inverse, weights=weight, minlength=len(first))


def _dominated(columns: np.ndarray, copies: np.ndarray, levels: int) -> np.ndarray:
    """bool per distinct column (rows of ``columns``): its set lies strictly inside the sets of at
    least ``levels`` kept columns (``copies`` of each)."""
    matrix = sp.csr_matrix(columns.astype(np.float32))
    size = np.asarray(matrix.sum(axis=1)).ravel()
    out = np.zeros(len(columns), bool)
    transpose = matrix.T.tocsc()
    for start in range(0, len(columns), _BLOCK):
        overlap = (matrix[start:start + _BLOCK] @ transpose).toarray()
        block_size = size[start:start + _BLOCK]
        inside = overlap == block_size[:, None]          # block column within column d
        strictly = inside & (block_size[:, None] < size[None, :])
        out[start:start + _BLOCK] = strictly.astype(np.int64) @ copies >= levels
    return out


def reduce(cover: np.ndarray, weight: np.ndarray, levels: int, stack: bool) -> Reduced:
    """Step 1 (see the module's docstring)."""
    rows, merged = merge_rows(cover, weight)
    if len(merged) == 0:
        return Reduced(rows, merged, np.arange(cover.shape[1]))
    columns_t = np.ascontiguousarray(rows.T)
    first, count, inverse, _ = unique_rows(columns_t)
    distinct = columns_t[first]
    keep_copies = np.minimum(count, 1 if stack else levels)
    useful = distinct.any(axis=1) & ~_dominated(distinct, keep_copies, 1 if stack else levels)
    # The first copies of each useful distinct column, in column order.
    seen = np.zeros(len(first), np.int64)
    columns = []
    for column, d in enumerate(inverse):
        if useful[d] and seen[d] < keep_copies[d]:
            seen[d] += 1
            columns.append(column)
    columns = np.array(columns, dtype=np.int64)
    rows, merged = merge_rows(rows[:, columns], merged)
    return Reduced(rows, merged, columns)


def value_of(cover: np.ndarray, weight: np.ndarray, counts: np.ndarray, levels: np.ndarray) -> float:
    """sum_i weight_i (levels[0] + ... + levels[n_i - 1]), n_i the units covering point i."""
    gained = np.concatenate([[0.0], np.cumsum(levels)])
    n = np.minimum(cover.astype(np.int64) @ np.asarray(counts, np.int64), len(levels))
    return float(weight @ gained[n])


def simple_bound(cover: np.ndarray, weight: np.ndarray, units: int, levels: np.ndarray, stack: bool) -> float:
    """Every point counted at every level it could reach: ``units`` levels when units may share a
    post, else as many as the columns that reach it (at most ``units``)."""
    reach = np.full(len(weight), units) if stack else np.minimum(cover.sum(axis=1), units)
    gained = np.concatenate([[0.0], np.cumsum(levels)])
    return float(weight @ gained[np.minimum(reach, len(levels))])


def greedy_counts(cover: np.ndarray, weight: np.ndarray, units: int, levels: np.ndarray, stack: bool,
                  start: np.ndarray | None = None) -> np.ndarray:
    """Greedy steps from ``start`` (counts; default none) up to ``units``: each to the column
    adding most (ties: the first)."""
    matrix = sp.csc_matrix(cover.astype(np.float64))
    counts = np.zeros(cover.shape[1], np.int64) if start is None else start.astype(np.int64).copy()
    step = np.concatenate([np.asarray(levels, float), [0.0]])
    n = cover.astype(np.int64) @ counts
    for _ in range(units - int(counts.sum())):
        gain = matrix.T @ (weight * step[np.minimum(n, len(levels))])
        if not stack:
            gain[counts > 0] = -np.inf
        best = int(np.argmax(gain))
        counts[best] += 1
        n += cover[:, best]
    return counts


def swap_search(cover: np.ndarray, weight: np.ndarray, open_: np.ndarray, levels: np.ndarray,
                deadline: float) -> np.ndarray:
    """Best-improvement swaps (close one column, open another; one unit per column) while one
    raises the value."""
    matrix = sp.csr_matrix(cover.astype(np.float64))
    step = np.concatenate([np.asarray(levels, float), [0.0]])
    open_ = open_.astype(bool).copy()
    while time.perf_counter() < deadline:
        n = cover[:, open_].sum(axis=1)
        gain_in = weight * step[np.minimum(n, len(levels))]                       # a unit more at point i
        loss_out = np.where(n > 0, weight * step[np.minimum(np.maximum(n - 1, 0), len(levels))], 0.0)
        open_idx = np.flatnonzero(open_)
        opened = matrix[:, open_idx].T.tocsr()                                     # (units, R)
        gain = matrix.T @ gain_in                                                  # (K,)
        loss = opened @ loss_out                                                   # (units,)
        # Points both the closed and the opened column reach keep their count.
        both = np.asarray((opened @ sp.diags(loss_out - gain_in) @ matrix).todense())
        delta = gain[None, :] - loss[:, None] + both
        delta[:, open_] = -np.inf
        r, c = np.unravel_index(np.argmax(delta), delta.shape)
        if not delta[r, c] > 1e-12 * max(1.0, float(weight.sum())):
            break
        open_[open_idx[r]] = False
        open_[c] = True
    return open_


@dataclass(frozen=True)
class CoverAnswer:
    """Counts over the kept columns, their value, a proven upper bound, and how it was found."""

    counts: np.ndarray
    value: float
    bound: float
    proven: bool
    message: str


def _run(cost: np.ndarray, n_int: int, upper: np.ndarray, constraints: list, deadline: float,
         rel_gap: float) -> ProgramResult:
    # HiGHS's presolve ran 57 s on the voting day's backup program and removed 6 of 4,007 columns.
    return run_milp(cost, np.concatenate([np.ones(n_int), np.zeros(len(cost) - n_int)]), Bounds(0, upper),
                    constraints, deadline, rel_gap, presolve=False)


def _program(cover: np.ndarray, weight: np.ndarray, units: int, levels: np.ndarray, stack: bool,
             deadline: float, rel_gap: float):
    """max sum_i w_i sum_k levels[k] y_ik  s.t.  sum_k y_ik <= sum_c a_ic x_c,  sum_c x_c = units.
    ``levels`` do not increase, so the y of a point fill from the first and may be continuous."""
    n_dem, n_cand = cover.shape
    n_lev = len(levels)
    a = sp.csr_matrix(cover.astype(np.float64))
    y_block = sp.kron(sp.identity(n_dem, format="csr"), np.ones((1, n_lev)), format="csr")
    total = sp.csr_matrix(np.concatenate([np.ones(n_cand), np.zeros(n_dem * n_lev)])[None, :])
    constraints = [LinearConstraint(sp.hstack([-a, y_block], format="csr"), -np.inf, 0.0),
                   LinearConstraint(total, units, units)]
    upper = np.concatenate([np.full(n_cand, units if stack else 1), np.ones(n_dem * n_lev)])
    cost = np.concatenate([np.zeros(n_cand), -np.kron(weight, levels)])
    return _run(cost, n_cand, upper, constraints, deadline, rel_gap), 0.0


def _backup_program(cover: np.ndarray, weight: np.ndarray, units: int, deadline: float, rel_gap: float):
    """MCLP's backup stage when every point is covered: max sum_i w_i y_i (y_i: a second unit
    reaches i) s.t. sum_c a_ic x_c - y_i >= 1 (so a first unit reaches i too), sum_c x_c = units.
    Its value counts the first cover too (sum_i w_i), as the two-level program does."""
    n_dem, n_cand = cover.shape
    a = sp.csr_matrix(cover.astype(np.float64))
    total = sp.csr_matrix(np.concatenate([np.ones(n_cand), np.zeros(n_dem)])[None, :])
    constraints = [LinearConstraint(sp.hstack([a, -sp.identity(n_dem, format="csr")], format="csr"), 1.0, np.inf),
                   LinearConstraint(total, units, units)]
    cost = np.concatenate([np.zeros(n_cand), -weight])
    return _run(cost, n_cand, np.ones(n_cand + n_dem), constraints, deadline, rel_gap), float(weight.sum())


def _floor_program(cover: np.ndarray, weight: np.ndarray, units: int, floor: float, deadline: float,
                   rel_gap: float):
    """MCLP's backup stage in general: the two-level program with the first level covering at
    least ``floor`` and the second counted only where the first is."""
    n_dem, n_cand = cover.shape
    n_var = n_cand + 2 * n_dem
    first_y, second_y = n_cand + 2 * np.arange(n_dem), n_cand + 2 * np.arange(n_dem) + 1
    a = sp.csr_matrix(cover.astype(np.float64))
    y_block = sp.kron(sp.identity(n_dem, format="csr"), np.ones((1, 2)), format="csr")
    first = np.zeros(n_var)
    first[first_y] = weight
    order = sp.csr_matrix((np.tile([1.0, -1.0], n_dem), (np.repeat(np.arange(n_dem), 2),
                                                         np.column_stack([second_y, first_y]).ravel())),
                          shape=(n_dem, n_var))
    constraints = [LinearConstraint(sp.hstack([-a, y_block], format="csr"), -np.inf, 0.0),
                   LinearConstraint(sp.csr_matrix(np.concatenate([np.ones(n_cand), np.zeros(2 * n_dem)])[None, :]),
                                    units, units),
                   LinearConstraint(sp.csr_matrix(first[None, :]), floor, np.inf),
                   LinearConstraint(order, -np.inf, 0.0)]
    cost = np.concatenate([np.zeros(n_cand), -np.repeat(weight, 2)])
    return _run(cost, n_cand, np.ones(n_var), constraints, deadline, rel_gap), 0.0


def solve_cover(reduced: Reduced, units: int, levels: np.ndarray, stack: bool, deadline: float, rel_gap: float,
                floor: float | None = None, start: np.ndarray | None = None) -> CoverAnswer:
    """Steps 2 and 3 on reduced data (see the module's docstring). ``floor``: the first level must
    cover at least this much (with ``start``, counts that do, to begin the search from)."""
    cover, weight = reduced.cover, reduced.weight
    levels = np.asarray(levels, float)
    n_cols = cover.shape[1]
    if len(weight) == 0 or n_cols == 0:
        counts = np.zeros(n_cols, np.int64)
        return CoverAnswer(counts, 0.0, 0.0, True, "no demand within reach of any candidate")
    if not stack and units >= n_cols:  # every kept column open: nothing is left to choose
        counts = np.ones(n_cols, np.int64)
        return CoverAnswer(counts, value_of(cover, weight, counts, levels), value_of(cover, weight, counts, levels),
                           True, "every useful candidate holds a unit")
    search = levels if floor is None else np.array([1.0, levels[1] * weight.min() / (2 * weight.sum())])
    counts = greedy_counts(cover, weight, units, search, stack, start)
    if not stack:
        counts = swap_search(cover, weight, counts > 0, search, deadline).astype(np.int64)
    value = value_of(cover, weight, counts, levels)
    first_ok = floor is None or value_of(cover, weight, counts, levels[:1]) >= floor
    if not first_ok and start is not None:
        counts, value = start.astype(np.int64), value_of(cover, weight, start, levels)
    bound = simple_bound(cover, weight, units, levels, stack)
    if value >= bound - rel_gap * abs(bound):
        return CoverAnswer(counts, value, bound, True, "the greedy and swap placement meets the simple bound")
    if time.perf_counter() >= deadline:
        return CoverAnswer(counts, value, bound, False, "time limit before the integer program")
    if floor is None:
        result, constant = _program(cover, weight, units, levels, stack, deadline, rel_gap)
    elif floor >= weight.sum() * (1 - 1e-6):
        result, constant = _backup_program(cover, weight, units, deadline, rel_gap)
    else:
        result, constant = _floor_program(cover, weight, units, floor, deadline, rel_gap)
    message = str(result.message)
    dual = result.dual_bound if result.dual_bound is not None else result.fun
    if dual is not None and np.isfinite(dual):
        bound = min(bound, constant - float(dual))
    # Only a proven placement replaces the greedy and swap one: what the solver holds when the time
    # limit stops it depends on the machine's speed, and the same scenario must give the same plan.
    if result.x is not None and result.status == 0:
        found = np.rint(result.x[:n_cols]).astype(np.int64)
        found_value = value_of(cover, weight, found, levels)
        if found_value >= value:
            counts, value = found, found_value
    elif result.status != 0:
        message = f"{message}; the greedy and swap placement is kept (the same on every machine)"
    proven = result.status == 0 and value >= bound - rel_gap * abs(bound)
    return CoverAnswer(counts, value, max(bound, value), proven, message)
