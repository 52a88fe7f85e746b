"""The demo network's arterials: which neighbouring places they link, which of them are primary,
and each one's curving course. Internal to :mod:`sim.network.demo`."""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path
from scipy.spatial import Delaunay

from sim.network._demo_roads import Roads

_ARTERIAL_STEP_M = 300.0  # arterial node spacing is at most this (and >= half of it)
_ARTERIAL_PRUNE_RATIO = 2.0  # drop links longer than this x the nearest-neighbour distance


def arterial_links(
    x_m: np.ndarray, y_m: np.ndarray, group: np.ndarray
) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Links between neighbouring places (point indices a < b) and the primary subset.

    Neighbours come from a Delaunay triangulation of the points, pruned of links much
    longer than either end's nearest-neighbour distance (across mountains, or along the
    hull) unless the minimum spanning tree needs them. ``group`` merges points into one
    place (the three city districts are group 0); links within a group are dropped.
    Primary roads are the shortest-path tree from the city (group 0), the way national
    and provincial roads radiate from the regency capital.
    """
    pairs: set[tuple[int, int]] = set()
    for simplex in Delaunay(np.column_stack([x_m, y_m])).simplices.tolist():
        for a, b in ((0, 1), (1, 2), (0, 2)):
            pairs.add((min(simplex[a], simplex[b]), max(simplex[a], simplex[b])))
    candidates = sorted((a, b) for a, b in pairs if group[a] != group[b])
    dist = np.hypot(x_m[:, None] - x_m, y_m[:, None] - y_m)
    np.fill_diagonal(dist, np.inf)
    nearest = dist.min(axis=1)

    def place_pair(a: int, b: int) -> tuple[int, int]:
        return int(min(group[a], group[b])), int(max(group[a], group[b]))

    def place_graph(links: list[tuple[int, int]]) -> coo_matrix:
        # The shortest link stands for a place pair (the city has three centres).
        best: dict[tuple[int, int], float] = {}
        for a, b in links:
            key = place_pair(a, b)
            best[key] = min(best.get(key, math.inf), float(dist[a, b]))
        keys = sorted(best)
        n = int(group.max()) + 1
        rows, cols = zip(*keys)
        return coo_matrix(([best[k] for k in keys], (rows, cols)), shape=(n, n))

    mst = minimum_spanning_tree(place_graph(candidates)).tocoo()
    in_mst = set(zip(mst.row.tolist(), mst.col.tolist()))
    links = [
        (a, b)
        for a, b in candidates
        if dist[a, b] <= _ARTERIAL_PRUNE_RATIO * max(nearest[a], nearest[b])
        or place_pair(a, b) in in_mst
    ]
    _, pred = shortest_path(
        place_graph(links).tocsr(), directed=False, indices=0, return_predecessors=True
    )
    tree = {(min(g, int(p)), max(g, int(p))) for g, p in enumerate(pred.tolist()) if p >= 0}
    return links, {(a, b) for a, b in links if place_pair(a, b) in tree}


def add_arterial(
    roads: Roads,
    p: int,
    q: int,
    xy_m: tuple[np.ndarray, np.ndarray],
    road_class: int,
    name: str,
    rng: np.random.Generator,
) -> None:
    """Add a gently curving two-way road from node p to node q, a node every <= 300 m."""
    x, y = xy_m
    dx, dy = x[q] - x[p], y[q] - y[p]
    length = math.hypot(dx, dy)
    n = max(1, math.ceil(length / _ARTERIAL_STEP_M))
    t = np.arange(1, n) / n
    # Sideways offset, zero at both ends: one wide bend plus two smaller wiggles.
    amp = rng.uniform(-1.0, 1.0, 3) * np.array([0.05, 0.015, 0.008]) * length
    offset = sum(a * np.sin((h + 1) * np.pi * t) for h, a in enumerate(amp))
    mid = roads.add_nodes(x[p] + t * dx - offset * dy / length, y[p] + t * dy + offset * dx / length)
    chain = np.concatenate([[p], mid, [q]])
    way = roads.new_ways(1)
    roads.way_names[way] = name
    roads.add_segments(chain[:-1], chain[1:], road_class, way)
