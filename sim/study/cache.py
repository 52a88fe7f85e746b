"""The one cache of road networks and worlds: a Study and the studies derived from it share one,
and a worker process holds one (its parent's, inherited by fork, or its own, bounded)."""
from __future__ import annotations

from typing import Any

from sim.model import World, build_world, world_key
from sim.network import RoadNetwork, load_network, network_cache_key


class StudyCache:
    """Road networks (by network cache key) and worlds (by world_key). ``network_loads`` and
    ``world_builds`` count the misses; with ``max_worlds`` only the most recently used worlds are
    kept (a long-lived Dask worker meets many)."""

    def __init__(self, max_worlds: int | None = None) -> None:
        self.networks: dict[str, Any] = {}
        self.worlds: dict[str, World] = {}
        self.max_worlds = max_worlds
        self.network_loads = 0
        self.world_builds = 0

    def network(self, spec):
        """The RoadNetwork of a spec, loaded (from the on-disk cache, or built) the first time."""
        try:
            key = network_cache_key(spec)
        except OSError:  # e.g. a file that is not there: load_network says so as bad input
            return load_network(spec)
        if key not in self.networks:
            self.networks[key] = load_network(spec)
            self.network_loads += 1
        return self.networks[key]

    def world(self, scenario, network: RoadNetwork) -> tuple[str, World]:
        """(world_key, World) of a scenario on a network, built the first time."""
        key = world_key(scenario, network)
        return key, self.keyed_world(key, scenario, network)

    def keyed_world(self, key: str, scenario, network) -> World:
        """The world of ``key``, built from ``network`` (a RoadNetwork, or a spec to load) the first
        time it is asked for."""
        world = self.worlds.pop(key, None)
        if world is None:
            road_network = network if isinstance(network, RoadNetwork) else self.network(network)
            world = build_world(scenario, road_network)
            self.world_builds += 1
        self.remember(key, world)
        return world

    def remember(self, key: str, world: World) -> None:
        """Keep ``world`` under ``key`` (most recently used last; the oldest go beyond max_worlds)."""
        self.worlds.pop(key, None)
        self.worlds[key] = world
        while self.max_worlds is not None and len(self.worlds) > self.max_worlds:
            del self.worlds[next(iter(self.worlds))]

    def clear(self) -> None:
        """Forget every network and world (they are loaded again when next needed)."""
        self.networks.clear()
        self.worlds.clear()

    def __repr__(self) -> str:
        return (f"<StudyCache: {len(self.networks)} networks ({self.network_loads} loaded), "
                f"{len(self.worlds)} worlds ({self.world_builds} built)>")
