"""Travel-time tables: one reverse shortest-path tree per destination node.

For every destination (site, base, patrol-pool node) a single Dijkstra run on the
*transposed* road graph gives, for every node of the network, the fastest travel time
to that destination and the next node of the fastest route toward it (the predecessor
in the reverse tree is the successor on the forward route). The simulation then answers
"how far is unit u from site s" and "which way does it drive" by array look-ups, never
by a graph search per dispatch (SPEC §6).

These eager tables hold every destination known in advance, at 12 bytes per destination and
network node, and are cached on disk. ``sim.network.trees.TravelTimes`` makes the same trees on
first need instead, for any node, in a memory-bounded cache, and answers from eager tables
where a world has them (small scenarios); ``route_along_tree`` and ``EdgeIndex`` serve both.

Times are seconds, as in the network layer; the model converts to minutes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from sim.network import cache

if TYPE_CHECKING:
    from sim.network.road_network import RoadNetwork

#: Bumped whenever the layout of a cached table file changes; older files are rebuilt.
TABLE_FORMAT_VERSION = 1

_TABLE_ARRAYS = ("destinations", "time_s", "next_node", "edge_key", "edge_time_s")


@dataclass(eq=False)
class TravelTables:
    """Fastest travel times and next hops from every node to a set of destinations.

    Row ``k`` belongs to destination node ``destinations[k]``; use :meth:`row` to find
    it. Destinations are stored sorted and unique, so equal destination sets give equal
    tables whatever order they were asked for in.
    """

    destinations: np.ndarray  # int64 (K,) node indices, sorted, unique
    time_s: np.ndarray  # float64 (K, N) fastest time s from every node to destination k
    next_node: np.ndarray  # int32 (K, N) next node toward destination k (-1 at k, -1 if unreachable)
    # Edge times for route(): keys tail * N + head, sorted, and the matching times (s),
    # kept here so that a table loaded from disk reconstructs routes without the network.
    edge_key: np.ndarray = field(repr=False)  # int64 (E,)
    edge_time_s: np.ndarray = field(repr=False)  # float64 (E,)
    _row_of: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._row_of = {int(d): k for k, d in enumerate(self.destinations)}

    @property
    def n_nodes(self) -> int:
        """Number of network nodes N the tables cover."""
        return int(self.time_s.shape[1])

    def row(self, dest: int) -> int:
        """Row index k of destination node ``dest`` (KeyError if it is not a destination)."""
        try:
            return self._row_of[int(dest)]
        except KeyError:
            raise KeyError(f"node {dest} is not a destination of these travel tables") from None

    def time_s_to(self, dest: int, origin: int) -> float:
        """Fastest travel time in seconds from node ``origin`` to destination node ``dest``."""
        return float(self.time_s[self.row(dest), origin])

    def route(self, origin: int, dest: int) -> tuple[np.ndarray, np.ndarray]:
        """Fastest route from ``origin`` to destination ``dest``.

        Returns ``(nodes, cum_time_s)``: the node indices from origin to dest inclusive
        (int64) and the cumulative travel time in seconds on arrival at each of them,
        starting at 0.0 and summed from the actual edge times.
        Raises ValueError if ``dest`` cannot be reached from ``origin``.
        """
        k = self.row(dest)
        return route_along_tree(self.time_s[k], self.next_node[k], int(origin), int(dest),
                                self.edge_key, self.edge_time_s)


def route_along_tree(time_s: np.ndarray, next_node: np.ndarray, origin: int, dest: int,
                     edge_key: np.ndarray, edge_time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The route ``(nodes, cum_time_s)`` from ``origin`` to ``dest`` along dest's reverse tree
    (``time_s``, ``next_node``: one destination's row), timed by the edges (keys ``tail * N + head``,
    sorted, and their times). ValueError if dest cannot be reached from origin."""
    if not np.isfinite(time_s[origin]):
        raise ValueError(f"node {dest} cannot be reached from node {origin}")
    n_nodes = len(next_node)
    nodes = [origin]
    node = origin
    # A tree route visits each node at most once; more steps than nodes means a cycle,
    # which only a damaged table (e.g. edited cache file) can produce.
    for _ in range(n_nodes):
        if node == dest:
            break
        node = int(next_node[node])
        nodes.append(node)
    else:
        raise RuntimeError(f"travel tables are inconsistent: no route {origin} -> {dest}")
    path = np.asarray(nodes, dtype=np.int64)
    pos = np.searchsorted(edge_key, path[:-1] * n_nodes + path[1:])
    cum_time_s = np.zeros(len(path), dtype=np.float64)
    np.cumsum(edge_time_s[pos], out=cum_time_s[1:])
    return path, cum_time_s


@dataclass(frozen=True)
class EdgeIndex:
    """A network's edges found by (tail, head) without a dict: keys ``tail * N + head``, sorted,
    with each key's edge id (position in the network's edge arrays) and travel time (s)."""

    n_nodes: int
    key: np.ndarray  # int64 (E,) sorted
    edge_id: np.ndarray  # int64 (E,)
    time_s: np.ndarray  # float64 (E,)

    @classmethod
    def of(cls, network: RoadNetwork) -> EdgeIndex:
        keys = network.edge_tails * network.n_nodes + np.asarray(network.indices, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        return cls(network.n_nodes, keys[order], order,
                   np.asarray(network.travel_time_s, dtype=np.float64)[order])

    def ids(self, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """Edge ids of the edges ``tails[i] -> heads[i]`` (KeyError if one is not an edge)."""
        keys = np.asarray(tails, dtype=np.int64) * self.n_nodes + np.asarray(heads, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.key, keys), max(len(self.key) - 1, 0))
        if keys.size and not np.array_equal(self.key[pos], keys):
            raise KeyError("no such edge on the route")
        return self.edge_id[pos]


def _edge_table(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Edge keys ``tail * N + head`` (int64, sorted) and their travel times (s)."""
    edges = EdgeIndex.of(network)
    return edges.key, edges.time_s


def build_travel_tables(network: RoadNetwork, destinations: Sequence[int] | np.ndarray) -> TravelTables:
    """Travel tables from every node of ``network`` to each of ``destinations`` (node indices).

    One reverse shortest-path tree per destination: Dijkstra from the destination on the
    transposed graph (travel_time_s weights), so ``time_s[k, u]`` is the time u -> k and the
    reverse-tree predecessor of u is the next node on the forward route u -> k.
    """
    n_nodes = network.n_nodes
    dests = np.unique(np.asarray(destinations, dtype=np.int64))
    if dests.size == 0:
        raise ValueError("no destinations given for the travel tables")
    if dests[0] < 0 or dests[-1] >= n_nodes:
        raise ValueError(f"destination node indices must lie in 0..{n_nodes - 1}")
    weights_s = np.asarray(network.travel_time_s, dtype=np.float64)
    # csgraph would read an explicit zero weight as a zero-cost edge and a missing edge as
    # no edge; the network promises times > 0, and a zero would make routes ambiguous.
    if weights_s.size and not np.all(weights_s > 0):
        raise ValueError("edge travel times must all be > 0 s")
    # The forward CSR arrays read as CSC are exactly the transpose (no copy, no summing
    # of duplicate entries); tocsr() then gives csgraph its native layout.
    reverse = scipy.sparse.csc_matrix(
        (weights_s, network.indices, network.indptr), shape=(n_nodes, n_nodes)
    ).tocsr()
    time_s, predecessor = dijkstra(reverse, directed=True, indices=dests, return_predecessors=True)
    # scipy marks "no predecessor" (the destination itself, unreachable nodes) with -9999.
    predecessor[predecessor < 0] = -1
    edge_key, edge_time_s = _edge_table(network)
    return TravelTables(
        destinations=dests,
        time_s=np.ascontiguousarray(time_s, dtype=np.float64),
        next_node=np.ascontiguousarray(predecessor, dtype=np.int32),
        edge_key=edge_key,
        edge_time_s=edge_time_s,
    )


def save_travel_tables(tables: TravelTables, path: str | Path) -> None:
    """Write ``tables`` to ``path`` (.npz) atomically: a reader sees the old file or the whole new one."""
    cache.save_entry(path, _table_arrays(tables), TABLE_FORMAT_VERSION)


def load_travel_tables(path: str | Path) -> TravelTables:
    """Read tables written by :func:`save_travel_tables`; ValueError if the file is damaged."""
    try:
        arrays, _ = cache.read_entry(path, _TABLE_ARRAYS, TABLE_FORMAT_VERSION)
        return _tables_from_arrays(arrays)
    except cache.DamagedEntry as exc:
        raise cache.DamagedEntry(f"damaged travel-table file {path}: {exc}") from exc


def _table_arrays(tables: TravelTables) -> dict[str, np.ndarray]:
    return {name: getattr(tables, name) for name in _TABLE_ARRAYS}


def _tables_from_arrays(arrays: dict[str, np.ndarray]) -> TravelTables:
    """TravelTables from stored arrays; DamagedEntry unless their types and shapes fit together."""
    dests, time_s, next_node = arrays["destinations"], arrays["time_s"], arrays["next_node"]
    edge_key, edge_time_s = arrays["edge_key"], arrays["edge_time_s"]
    well_formed = (
        dests.dtype == np.int64
        and time_s.dtype == np.float64
        and next_node.dtype == np.int32
        and edge_key.dtype == np.int64
        and edge_time_s.dtype == np.float64
        and dests.ndim == 1
        and dests.size > 0
        and time_s.ndim == 2
        and time_s.shape[0] == dests.size
        and next_node.shape == time_s.shape
        and edge_key.shape == edge_time_s.shape
        and edge_key.ndim == 1
        and bool(np.all(np.diff(dests) > 0))
        and bool(np.all((next_node >= -1) & (next_node < time_s.shape[1])))
    )
    if not well_formed:
        raise cache.DamagedEntry("arrays have wrong types or shapes")
    return TravelTables(**arrays)


def destinations_key(destinations: Sequence[int] | np.ndarray) -> str:
    """Stable hex digest of the destination set (order and repeats do not matter)."""
    dests = np.unique(np.asarray(destinations, dtype=np.int64))
    return hashlib.sha256(dests.astype("<i8").tobytes()).hexdigest()


def travel_tables_for(
    network: RoadNetwork,
    destinations: Sequence[int] | np.ndarray,
    cache_dir: str | Path | None = None,
) -> TravelTables:
    """Travel tables for ``destinations``, from the cache when built before, else built and cached.

    The cache file is keyed by the network's content hash and the destination set, in
    ``travel_tables/`` under ``cache_dir`` (default: the patrolsim cache folder, as for the
    network itself). A damaged or mismatched file gives a warning and is rebuilt.
    """
    folder = (Path(cache_dir) if cache_dir is not None else cache.cache_dir()) / "travel_tables"
    path = folder / f"tt-{network.content_hash()[:24]}-{destinations_key(destinations)[:24]}.npz"
    expected = np.unique(np.asarray(destinations, dtype=np.int64))

    def answers_this(arrays: dict[str, np.ndarray], _meta: object) -> TravelTables:
        tables = _tables_from_arrays(arrays)
        # The name is only a hash prefix: check that the content answers this question.
        if tables.n_nodes != network.n_nodes or tables.edge_key.size != network.n_edges:
            raise cache.DamagedEntry("built for another network")
        if not np.array_equal(tables.destinations, expected):
            raise cache.DamagedEntry("holds other destinations")
        return tables

    tables = cache.load_cached(path, _TABLE_ARRAYS, TABLE_FORMAT_VERSION, answers_this,
                               what="travel-table cache entry")
    if tables is None:
        tables = build_travel_tables(network, expected)
        cache.save_cached(path, _table_arrays(tables), TABLE_FORMAT_VERSION, what="travel-table cache")
    return tables
