"""Travel minutes from candidate posts to demand points, at speed factor 1.

Two ways to the same numbers: from the world's travel tables (one reverse tree per site, already
built for the simulation) when the demand points are sites, or by Dijkstra forward from each
candidate when they are not (many demand points, few candidates: the benchmark's 4,041 polling
stations), in chunks so that memory stays at chunk x nodes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import dijkstra

SECONDS_PER_MIN = 60.0
_CHUNK = 64  # candidates per forward Dijkstra call: 64 x 31,523 nodes x 8 bytes = 16 MB


def times_s_to(tables, dest: int, origins: np.ndarray) -> np.ndarray:
    """Seconds from each of ``origins`` to node ``dest`` through the world's travel times
    (``TravelTimes`` answers many origins at once; plain ``TravelTables`` one at a time)."""
    many = getattr(tables, "times_s_to", None)
    if many is not None:
        return np.asarray(many(int(dest), origins), dtype=np.float64)
    return np.array([tables.time_s_to(int(dest), int(origin)) for origin in origins], dtype=np.float64)


def travel_min_from_tables(tables, demand_nodes: Sequence[int], candidate_nodes: Sequence[int]) -> np.ndarray:
    """(D, C) minutes from each candidate node to each demand node, from the world's travel times."""
    origins = np.asarray(candidate_nodes, dtype=np.int64)
    return np.array([times_s_to(tables, node, origins) for node in demand_nodes]).reshape(
        len(demand_nodes), len(origins)) / SECONDS_PER_MIN


def travel_min_forward(network, candidate_nodes: Sequence[int], demand_nodes: Sequence[int]) -> np.ndarray:
    """(D, C) minutes from each candidate node to each demand node, by one forward Dijkstra per
    candidate on ``network`` (a ``sim.network.RoadNetwork``)."""
    graph = network.csr("travel_time_s")
    candidates = np.asarray(candidate_nodes, dtype=np.int64)
    demand = np.asarray(demand_nodes, dtype=np.int64)
    out = np.empty((len(demand), len(candidates)))
    for start in range(0, len(candidates), _CHUNK):
        block = candidates[start:start + _CHUNK]
        times_s = dijkstra(graph, directed=True, indices=block)
        out[:, start:start + len(block)] = times_s[:, demand].T / SECONDS_PER_MIN
    return out
