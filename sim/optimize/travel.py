"""Travel minutes from candidate posts to demand points, at speed factor 1.

Two ways to the same numbers (up to the last bits of a sum taken from the other end): from the
world's travel tables (one reverse tree per demand node, kept in the world's cache), or by
Dijkstra forward from each candidate node or backward from each demand node, in chunks so that
memory stays at chunk x nodes and no tree is kept; ``travel_min`` takes whichever needs fewer
searches (4,041 polling stations seen from 65 candidates: 65 forward searches).
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


def travel_min_forward(network, candidate_nodes: Sequence[int], demand_nodes: Sequence[int],
                       horizon_min: float = np.inf) -> np.ndarray:
    """(D, C) minutes from each candidate node to each demand node, by one forward Dijkstra per
    distinct candidate node on ``network`` (a ``sim.network.RoadNetwork``; rows of its matrix are
    edge tails, so the search runs with the traffic); inf beyond ``horizon_min``."""
    graph = network.csr("travel_time_s")
    distinct, where = np.unique(np.asarray(candidate_nodes, dtype=np.int64), return_inverse=True)
    demand = np.asarray(demand_nodes, dtype=np.int64)
    out = np.empty((len(demand), len(distinct)))
    for start in range(0, len(distinct), _CHUNK):
        block = distinct[start:start + _CHUNK]
        times_s = dijkstra(graph, directed=True, indices=block, limit=horizon_min * SECONDS_PER_MIN)
        out[:, start:start + len(block)] = times_s[:, demand].T / SECONDS_PER_MIN
    return out[:, where.ravel()]


def travel_min_reverse(network, candidate_nodes: Sequence[int], demand_nodes: Sequence[int],
                       horizon_min: float = np.inf) -> np.ndarray:
    """(D, C) minutes, by one Dijkstra per distinct demand node on the reversed graph (the search
    the world's reverse trees make, without keeping the trees); inf beyond ``horizon_min``."""
    graph = network.csr("travel_time_s").T.tocsr()
    distinct, where = np.unique(np.asarray(demand_nodes, dtype=np.int64), return_inverse=True)
    candidates = np.asarray(candidate_nodes, dtype=np.int64)
    out = np.empty((len(distinct), len(candidates)))
    for start in range(0, len(distinct), _CHUNK):
        block = distinct[start:start + _CHUNK]
        times_s = dijkstra(graph, directed=True, indices=block, limit=horizon_min * SECONDS_PER_MIN)
        out[start:start + len(block)] = times_s[:, candidates] / SECONDS_PER_MIN
    return out[where.ravel()]


def travel_min(network, demand_nodes: Sequence[int], candidate_nodes: Sequence[int],
               horizon_min: float = np.inf) -> np.ndarray:
    """(D, C) minutes from candidates to demand points (inf beyond ``horizon_min``: a search that
    stops there visits a fraction of a regency's roads), by whichever search needs fewer runs:
    forward from the distinct candidate nodes, or backward from the distinct demand nodes."""
    if len(set(candidate_nodes)) <= len(set(demand_nodes)):
        return travel_min_forward(network, candidate_nodes, demand_nodes, horizon_min)
    return travel_min_reverse(network, candidate_nodes, demand_nodes, horizon_min)
