"""A bounded cache of worlds for a long-running server, all of one network sharing one set of travel trees.

Every post dragged to a new place adds a site, so a new world (``sim.model.world_key`` covers the
sites). Built the usual way, each such world would compute its own eager travel tables (about a
second and 30 MB on the demo network). Here the first world of a network is built as usual (its
known destinations pinned, read from the disk cache) with a bounded tree cache, and every later
world of that network takes the same ``TravelTimes`` and ``Roads``: a new post costs one tree.
Trees and routes are the same to the bit whichever world made them (one scipy Dijkstra on the
same matrix), so the numbers are those of ``Study.run``. Worlds beyond ``max_worlds`` are
forgotten, least recently used first.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict

from sim.model import World, build_world, world_key
from sim.study.api import StudyCache

DEFAULT_MAX_WORLDS = 12
DEFAULT_TREE_CACHE_MB = 96  # per process: about 250 trees of the demo network beyond the pinned tables


class ServeCache(StudyCache):
    """StudyCache whose worlds share their network's travel trees and are bounded in number."""

    def __init__(self, max_worlds: int = DEFAULT_MAX_WORLDS, tree_cache_mb: int = DEFAULT_TREE_CACHE_MB):
        super().__init__()
        self.worlds: OrderedDict[str, World] = OrderedDict()
        self.max_worlds = max_worlds
        self.tree_cache_bytes = tree_cache_mb * 2**20
        self._shared: dict[str, tuple] = {}  # network content hash -> (TravelTimes, Roads)

    def world(self, scenario, network) -> tuple[str, World]:
        key = world_key(scenario, network)
        if key in self.worlds:
            self.worlds.move_to_end(key)
            return key, self.worlds[key]
        shared = self._shared.get(network.content_hash())
        if shared is None:
            world = build_world(scenario, network, tree_cache_bytes=self.tree_cache_bytes)
            self._shared[network.content_hash()] = (world.tables, world.roads)
        else:
            tables, roads = shared
            built = build_world(scenario, network, eager_max_bytes=0, tree_cache_bytes=tables.budget_bytes)
            world = dataclasses.replace(built, tables=tables, roads=roads)
        self.worlds[key] = world
        self.world_builds += 1
        while len(self.worlds) > self.max_worlds:
            self.worlds.popitem(last=False)
        return key, world

    def clear(self) -> None:
        super().clear()
        self._shared.clear()

    @property
    def trees_held(self) -> int:
        """Travel trees made on first need, held now (over every network)."""
        return sum(tables.trees_held for tables, _ in self._shared.values())
