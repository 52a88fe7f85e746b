"""Travel times that scale with what is used: reverse shortest-path trees computed on first need.

``TravelTimes`` answers the same questions as ``TravelTables`` (time from any node to a
destination, the fastest route) for *any* destination node. The tree of a destination is one
Dijkstra run on the transposed graph, exactly the run ``build_travel_tables`` makes for it (the
same scipy call on the same matrix: the same times and next hops to the bit), made the first
time the destination is asked for and then kept in a least-recently-used cache bounded in bytes.
The cache belongs to the world, so the replications of a process share it.

A scenario whose known destinations (sites, bases, patrol stops) fit ``EAGER_TABLES_MAX_BYTES``
gets them as *pinned* ``TravelTables`` (built at once and kept on disk, as before); everything
else is computed on first need and nothing of it is written to disk.

A run on several processes shares the trees made on first need (``share``): each tree is made
once, by whichever process needs it first, and read in place by the others
(``sim.network.shared_trees``), up to the same memory budget; past it each process keeps its own.

Times are seconds, as in the rest of the network layer.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from sim.config.settings import tree_cache_mb
from sim.network.routing import EdgeIndex, TravelTables, route_along_tree
from sim.network.shared_trees import SharedTrees

if TYPE_CHECKING:
    from sim.network.road_network import RoadNetwork

#: Known destinations up to this size as eager tables (rows x nodes x 12 bytes): the main job's
#: 79 destinations on the demo network take 30 MB. Above it every tree is made on first need.
EAGER_TABLES_MAX_BYTES = 64 * 2**20
# The memory for trees made on first need: PATROLSIM_TREE_CACHE_MB (sim.config.settings).
# Bytes one tree takes per network node: a float64 time and an int32 next hop.
_TREE_BYTES_PER_NODE = 12


def eager_table_bytes(n_destinations: int, n_nodes: int) -> int:
    """Memory (and disk) of eager tables for ``n_destinations`` on an ``n_nodes`` network."""
    return n_destinations * n_nodes * _TREE_BYTES_PER_NODE


class TravelTimes:
    """Fastest times and routes from every node to any destination node, trees made on first need.

    ``pinned`` tables (optional) answer for their destinations; every other destination's tree
    is made when first asked for and kept while the trees held take at most ``budget_bytes``
    (the least recently used goes first). ``trees_built`` and ``trees_evicted`` count them.
    """

    def __init__(self, network: RoadNetwork, pinned: TravelTables | None = None,
                 budget_bytes: int | None = None):
        weights_s = np.asarray(network.travel_time_s, dtype=np.float64)
        if weights_s.size and not np.all(weights_s > 0):
            raise ValueError("edge travel times must all be > 0 s")
        self.n_nodes = network.n_nodes
        self._content_hash = network.content_hash  # asked for only when trees are shared
        self.pinned = pinned
        if budget_bytes is None:
            budget_bytes = tree_cache_mb() * 2**20
        self.budget_bytes = int(budget_bytes)
        # The same transposed matrix build_travel_tables makes, once: the forward CSR arrays read
        # as CSC are exactly the transpose; tocsr() gives csgraph its native layout.
        self._reverse = scipy.sparse.csc_matrix(
            (weights_s, network.indices, network.indptr), shape=(self.n_nodes, self.n_nodes)).tocsr()
        self.edges = EdgeIndex.of(network)
        self._trees: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        # The pinned tables' rows, looked up once: tree() is on the dispatcher's hot path.
        self._pinned: dict[int, tuple[np.ndarray, np.ndarray]] = {} if pinned is None else {
            int(d): (pinned.time_s[k], pinned.next_node[k]) for k, d in enumerate(pinned.destinations)}
        self._tree_bytes = self.n_nodes * _TREE_BYTES_PER_NODE
        self.trees_built = 0
        self.trees_evicted = 0
        self.shared: SharedTrees | None = None  # trees shared with the run's other processes (share)
        self._from_shared: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # views into it, looked up once
        self.trees_from_shared = 0  # trees another process made, read here

    # -- sharing with other processes ---------------------------------------------------------------

    def share(self) -> str | None:
        """Keep trees made on first need from now on in a file the run's other processes share
        (forked ones through this object, others by ``attach_shared(path)``), up to this cache's
        budget; the trees held now go there first. Returns the file's path (None where nothing
        can be shared). ``unshare`` ends it."""
        if self.shared is None:
            self.shared = SharedTrees.create(self.n_nodes, self.budget_bytes // self._tree_bytes,
                                             self._content_hash())
            for dest, (time_s, next_node) in list(self._trees.items()):
                if self.shared is not None and self.shared.put(dest, time_s, next_node) is not None:
                    self._from_shared[dest] = self.shared.get(dest)
                    del self._trees[dest]
        return None if self.shared is None else str(self.shared.path)

    def attach_shared(self, path: str | None) -> bool:
        """Use the shared trees at ``path`` (another process's ``share``) if they are of this network."""
        if path is not None and (self.shared is None or str(self.shared.path) != path):
            self.shared = SharedTrees.attach(path, self.n_nodes, self._content_hash())
            self._from_shared = {}
        return self.shared is not None

    def unshare(self) -> None:
        """Stop sharing: the trees read from the shared file are copied back into this cache (as many
        as its budget holds) and the file is let go (removed by the process that made it)."""
        shared, self.shared = self.shared, None
        if shared is None:
            return
        for dest, (time_s, next_node) in self._from_shared.items():
            if self.bytes_held + self._tree_bytes <= self.budget_bytes:
                self._trees[dest] = (time_s.copy(), next_node.copy())
        self._from_shared = {}
        shared.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["shared"], state["_from_shared"] = None, {}  # shared by fork or by path, never pickled
        state["_trees"] = OrderedDict(self._trees)
        for dest, (time_s, next_node) in self._from_shared.items():
            state["_trees"][dest] = (np.array(time_s), np.array(next_node))
        return state

    # -- trees ---------------------------------------------------------------------------------

    @property
    def trees_held(self) -> int:
        """Trees in the cache now, those read from the shared file included (pinned tables not counted)."""
        return len(self._trees) + len(self._from_shared)

    @property
    def bytes_held(self) -> int:
        """Memory of the trees in the cache now."""
        return len(self._trees) * self._tree_bytes

    def tree(self, dest: int) -> tuple[np.ndarray, np.ndarray]:
        """(time_s, next_node) of destination ``dest``: for every node, the fastest time to it (s,
        inf if it cannot be reached) and the next node on the way (-1 at dest or unreachable)."""
        held = self._pinned.get(dest)
        if held is not None:
            return held
        held = self._trees.get(dest)
        if held is not None:
            self._trees.move_to_end(dest)
            return held
        held = self._from_shared.get(dest)
        if held is not None:
            return held
        dest = int(dest)
        if not 0 <= dest < self.n_nodes:
            raise ValueError(f"destination node {dest} is not in 0..{self.n_nodes - 1}")
        if self.shared is not None:
            held = self.shared.get(dest)
            if held is not None:
                self.trees_from_shared += 1
                self._from_shared[dest] = held
                return held
        return self._keep(dest, *self._dijkstra(np.array([dest]))[0])

    def prepare(self, dests: np.ndarray | list[int]) -> None:
        """Make the missing trees of ``dests`` in one Dijkstra call (as many as the budget holds):
        the same trees as one at a time, with one call's overhead."""
        wanted = [d for d in dict.fromkeys(int(d) for d in dests)
                  if d not in self._trees and d not in self._pinned and d not in self._from_shared]
        if self.shared is not None:
            found = {d: self.shared.get(d) for d in wanted}
            self._from_shared |= {d: held for d, held in found.items() if held is not None}
            self.trees_from_shared += sum(held is not None for held in found.values())
            wanted = [d for d in wanted if found[d] is None]
        wanted = wanted[:max(1, self.budget_bytes // self._tree_bytes)]
        if wanted:
            for dest, (time_s, next_node) in zip(wanted, self._dijkstra(np.array(wanted))):
                self._keep(dest, time_s, next_node)

    def _dijkstra(self, dests: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        time_s, predecessor = dijkstra(self._reverse, directed=True, indices=dests, return_predecessors=True)
        # scipy marks "no predecessor" (the destination itself, unreachable nodes) with -9999.
        predecessor[predecessor < 0] = -1
        time_s, next_node = time_s.astype(np.float64, copy=False), predecessor.astype(np.int32)
        if len(dests) == 1:
            return [(time_s[0], next_node[0])]
        # Rows copied out of a batch: a kept row must not hold the whole batch in memory.
        return [(time_s[i].copy(), next_node[i].copy()) for i in range(len(dests))]

    def _keep(self, dest: int, time_s: np.ndarray, next_node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.trees_built += 1
        if self.shared is not None:
            held = self.shared.put(dest, time_s, next_node)
            if held is not None:  # in the shared file (another process's copy, if it was quicker)
                self._from_shared[dest] = held
                return held
        # Evict before adding: the newest tree is always kept, even over a tiny budget.
        while self._trees and self.bytes_held + self._tree_bytes > self.budget_bytes:
            self._trees.popitem(last=False)
            self.trees_evicted += 1
        self._trees[dest] = (time_s, next_node)
        return time_s, next_node

    # -- what TravelTables answers -------------------------------------------------------------

    def time_s_to(self, dest: int, origin: int) -> float:
        """Fastest travel time in seconds from node ``origin`` to node ``dest``."""
        # The dispatcher asks this for every free unit of every incident: pinned rows first, inline.
        held = self._pinned.get(dest) or self.tree(dest)
        return float(held[0][origin])

    def times_s_to(self, dest: int, origins: np.ndarray) -> np.ndarray:
        """Fastest travel times in seconds from each of ``origins`` to node ``dest``."""
        return self.tree(dest)[0][np.asarray(origins, dtype=np.int64)]

    def route(self, origin: int, dest: int) -> tuple[np.ndarray, np.ndarray]:
        """Fastest route ``(nodes, cum_time_s)`` from ``origin`` to ``dest``, as ``TravelTables.route``."""
        time_s, next_node = self.tree(dest)
        return route_along_tree(time_s, next_node, int(origin), int(dest), self.edges.key, self.edges.time_s)


def times_s_from(network: RoadNetwork, origins: np.ndarray, dests: list[int] | np.ndarray) -> np.ndarray:
    """(origins, dests) fastest travel times in seconds: one forward Dijkstra per distinct origin,
    for many destinations seen from a few origins (the sums run from the origin end, so they may
    differ from a reverse tree's in the last bits)."""
    distinct, where = np.unique(np.asarray(origins, dtype=np.int64), return_inverse=True)
    time_s = dijkstra(network.csr(), directed=True, indices=distinct)[:, np.asarray(dests, dtype=np.int64)]
    return time_s[where.ravel()]
