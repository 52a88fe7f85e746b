"""What a placement achieves on an ``Instance``: covered share, mean travel minutes, expected
covered share; and the greedy placements (one unit at a time, the best next post each time).

``counts[c]`` is the number of units at candidate c. Shares are of the total demand weight.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Instance:
    """Demand points and candidate posts: ``travel_min[i, c]`` minutes from candidate c to demand
    point i (inf when there is no route), ``weight[i]`` its demand, ``target_min`` the standard."""

    weight: np.ndarray       # float (D,) >= 0
    travel_min: np.ndarray   # float (D, C)
    target_min: float

    def __post_init__(self) -> None:
        if self.travel_min.ndim != 2 or self.travel_min.shape[0] != len(self.weight):
            raise ValueError(f"travel_min {self.travel_min.shape} does not fit {len(self.weight)} demand points")
        if (self.weight < 0).any() or not np.isfinite(self.weight).all():
            raise ValueError("demand weights must be finite and >= 0")

    @property
    def n_candidates(self) -> int:
        return int(self.travel_min.shape[1])

    @cached_property
    def covers(self) -> np.ndarray:
        """bool (D, C): candidate c reaches demand point i within the target."""
        return self.travel_min <= self.target_min

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())

    @cached_property
    def memo(self) -> dict:
        """Work done on this instance that another fleet size can reuse (the programs' reductions), by key."""
        return {}


def _share(instance: Instance, values: np.ndarray) -> float:
    total = instance.total_weight
    return float(instance.weight @ values) / total if total > 0 else 0.0


def covered_share(instance: Instance, counts: np.ndarray) -> float:
    """Share of demand within the target of at least one post."""
    return _share(instance, instance.covers[:, np.asarray(counts) > 0].any(axis=1).astype(float))


def nearest_travel_min(instance: Instance, counts: np.ndarray) -> np.ndarray:
    """Minutes from the nearest post to each demand point (inf if no post reaches it)."""
    open_ = np.asarray(counts) > 0
    if not open_.any():
        return np.full(len(instance.weight), np.inf)
    return instance.travel_min[:, open_].min(axis=1)


def mean_travel_min(instance: Instance, counts: np.ndarray) -> float:
    """Demand-weighted mean of the minutes from the nearest post (inf if some demand is unreachable)."""
    nearest = nearest_travel_min(instance, counts)
    used = instance.weight > 0
    if not np.isfinite(nearest[used]).all():
        return float("inf")
    return _share(instance, np.where(used, nearest, 0.0))


def covering_units(instance: Instance, counts: np.ndarray) -> np.ndarray:
    """int (D,): how many units are within the target of each demand point."""
    return instance.covers.astype(np.int64) @ np.asarray(counts, dtype=np.int64)


def expected_covered_share(instance: Instance, counts: np.ndarray, busy: float) -> float:
    """MEXCLP's value: a point covered by n units is covered with probability 1 - busy**n."""
    n = covering_units(instance, counts)
    return _share(instance, 1.0 - np.power(float(busy), n))


def cover_value(instance: Instance, counts: np.ndarray, levels: np.ndarray) -> float:
    """Share of demand weighted by ``levels``: a point covered by n units counts
    ``levels[0] + ... + levels[n-1]`` (MCLP: levels [1]; MEXCLP: (1 - q) q^k)."""
    gained = np.concatenate([[0.0], np.cumsum(levels)])
    n = np.minimum(covering_units(instance, counts), len(levels))
    return _share(instance, gained[n])


def greedy_cover(instance: Instance, units: int, levels: np.ndarray, stack: bool) -> np.ndarray:
    """Counts of the greedy placement for ``cover_value``: each unit goes where it adds most (ties:
    the first candidate); with ``stack`` a candidate may take several units."""
    weight = instance.weight
    counts = np.zeros(instance.n_candidates, dtype=np.int64)
    cover = instance.covers.astype(np.float64)
    step = np.concatenate([np.asarray(levels, float), [0.0]])
    n_covering = np.zeros(len(weight), dtype=np.int64)
    for _ in range(units):
        gain = (weight * step[np.minimum(n_covering, len(levels))]) @ cover
        if not stack:
            gain[counts > 0] = -np.inf
        best = int(np.argmax(gain))
        counts[best] += 1
        n_covering += instance.covers[:, best]
    return counts


def greedy_median(instance: Instance, units: int) -> np.ndarray:
    """Counts of the greedy placement for ``mean_travel_min`` (one unit per candidate)."""
    weight = instance.weight
    counts = np.zeros(instance.n_candidates, dtype=np.int64)
    travel = np.where(np.isfinite(instance.travel_min), instance.travel_min, np.finfo(float).max / 1e6)
    nearest = np.full(len(weight), np.inf)
    for _ in range(units):
        cost = weight @ np.minimum(nearest[:, None], travel)
        cost[counts > 0] = np.inf
        best = int(np.argmin(cost))
        counts[best] = 1
        nearest = np.minimum(nearest, travel[:, best])
    return counts


def greedy_order(instance: Instance, units: int) -> np.ndarray:
    """The candidates the MCLP greedy placement opens, in order (each the one adding most new
    cover; ties: the first): its first k are the greedy placement of k units."""
    weight = instance.weight
    cover = instance.covers.astype(np.float64)
    uncovered = np.ones(len(weight), bool)
    order = []
    for _ in range(min(units, instance.n_candidates)):
        gain = (weight * uncovered) @ cover
        gain[order] = -np.inf
        best = int(np.argmax(gain))
        order.append(best)
        uncovered &= ~instance.covers[:, best]
    return np.array(order, dtype=np.int64)
