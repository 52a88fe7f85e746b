"""The world every replication of a scenario shares: snapped sites, resolved patrols, travel times.

Travel times come from reverse shortest-path trees (``sim.network.trees``): the known
destinations (sites, bases, patrol stops) as eager, disk-cached tables when they are small
enough, every other tree on first need, in a memory-bounded cache the replications share.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.clock import minute_of_day
from sim.config.site_sets import generated_site_ids
from sim.model.movement import Roads
from sim.model.periods import TimedRoads, period_roads
from sim.network import RoadNetwork, snap_sites
from sim.network.routing import travel_tables_for
from sim.network.trees import EAGER_TABLES_MAX_BYTES, TravelTimes, eager_table_bytes
from sim.plugins.patrols import PatrolRoute
from sim.streams import STREAM_POOL, stream

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.config.schema import UnitGroup


@dataclass
class Places:
    """Where patrols can go: the site nodes and random road-node pools (``sim.plugins.patrols.PatrolWorld``)."""

    network: RoadNetwork
    site_node: dict[str, int]
    site_ids: tuple[str, ...]
    seed: int
    _pools: dict[tuple[int, int, float], tuple[int, ...]] = field(default_factory=dict, repr=False)

    def road_pool(self, base_node: int, size: int, radius_km: float) -> tuple[int, ...]:
        """``size`` road nodes within ``radius_km`` (straight line) of the base, drawn at random.

        Drawn from a stream keyed by what defines the pool, so equal groups in two plans patrol alike.
        """
        key = (base_node, size, radius_km)
        if key not in self._pools:
            rng = stream(self.seed, STREAM_POOL, base_node, size, round(radius_km * 1000))
            x_m, y_m = self.network.x_m, self.network.y_m
            near = np.flatnonzero(np.hypot(x_m - x_m[base_node], y_m - y_m[base_node]) <= radius_km * 1000.0)
            self._pools[key] = tuple(int(n) for n in rng.choice(near, size=min(size, len(near)), replace=False))
        return self._pools[key]


def _route_key(group: UnitGroup) -> tuple[Any, str]:
    return group.patrol, group.base


@dataclass(frozen=True)
class World:
    """What every replication of a scenario shares: roads, site nodes and the plans' patrols."""

    network: RoadNetwork
    tables: TravelTimes  # travel times and routes to any node (pinned tables + trees on first need)
    roads: Roads
    site_node: dict[str, int]
    site_snap_m: dict[str, float]
    places: Places
    routes: dict[tuple[Any, str], PatrolRoute]  # (patrol mode, base site) -> resolved route
    # travel.periods: (start, end minute of the day, Roads at the period's speeds); none: roads always
    periods: tuple[tuple[int, int, Roads], ...] = ()
    start_min_of_day: float = 0.0  # of the clock, for the periods

    def roads_for(self, env: Any) -> Roads | TimedRoads:
        """The roads a replication's units drive: ``roads``, or with travel periods the roads of the
        period in force at each moment of ``env``."""
        if not self.periods:
            return self.roads
        return TimedRoads(env, self.roads, self.periods, self.start_min_of_day)

    def tree_caches(self) -> list[TravelTimes]:
        """Every travel-time cache of the world: its own, then each travel period's."""
        return [self.tables, *(roads.tables for _, _, roads in self.periods)]

    def share_trees(self) -> list[str | None]:
        """Share the trees made on first need with the run's other processes (``TravelTimes.share``),
        each cache in a file of its own; their paths, for processes that are not forked from this one."""
        return [tables.share() for tables in self.tree_caches()]

    def attach_trees(self, paths: list[str | None]) -> None:
        """Use the trees another process shares (the paths its ``share_trees`` gave), where they fit."""
        for tables, path in zip(self.tree_caches(), paths):
            tables.attach_shared(path)

    def unshare_trees(self) -> None:
        """Stop sharing trees (``TravelTimes.unshare``)."""
        for tables in self.tree_caches():
            tables.unshare()

    def route(self, group: UnitGroup) -> PatrolRoute:
        """The group's patrol on road nodes (resolved on first use for a plan built later, e.g.
        by ``Study.with_plan``; its stops' trees are made when first driven to)."""
        key = _route_key(group)
        if key not in self.routes:
            self.routes[key] = group.patrol.resolve(group.base, self.places)
        return self.routes[key]


def _snap(scenario: Scenario, network: RoadNetwork) -> dict[str, tuple[int, float]]:
    """Site id -> (road node, snap distance m). Generated (synthetic) sites snap however far their
    point is from a road: it has no true position that max_snap_m could find wrong."""
    generated = generated_site_ids(scenario.site_sets)
    if not generated:
        return snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites], scenario.max_snap_m)
    snapped = snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites if s.id not in generated],
                         scenario.max_snap_m)
    snapped |= snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites if s.id in generated], math.inf)
    return {s.id: snapped[s.id] for s in scenario.sites}


def _resolve(scenario: Scenario, network: RoadNetwork) -> tuple[dict[str, tuple[int, float]], Places, dict]:
    snapped = _snap(scenario, network)
    places = Places(network, {site: node for site, (node, _) in snapped.items()}, scenario.site_ids, scenario.seed)
    routes = {_route_key(group): group.patrol.resolve(group.base, places)
              for plan in scenario.plans for groups in plan.fleets.values() for group in groups}
    return snapped, places, routes


def _destinations(places: Places, routes: dict) -> list[int]:
    return sorted(set(places.site_node.values()) | {n for route in routes.values() for n in route.stops})


def build_world(scenario: Scenario, network: RoadNetwork, cache_dir=None,
                eager_max_bytes: int = EAGER_TABLES_MAX_BYTES, tree_cache_bytes: int | None = None) -> World:
    """Snap the sites, resolve every plan's patrols to road nodes and set up the travel times.

    The known destinations get eager tables (built or read from the disk cache) when they take at
    most ``eager_max_bytes``; other trees are made on first need and kept within
    ``tree_cache_bytes`` (default: ``$PATROLSIM_TREE_CACHE_MB``, else 1 GB). Either way every time
    and route is the same to the bit.
    """
    snapped, places, routes = _resolve(scenario, network)
    destinations = _destinations(places, routes)
    pinned = None
    if eager_table_bytes(len(destinations), network.n_nodes) <= eager_max_bytes:
        pinned = travel_tables_for(network, destinations, cache_dir=cache_dir)
    tables = TravelTimes(network, pinned, tree_cache_bytes)
    return World(
        network=network,
        tables=tables,
        roads=Roads(network, tables),
        site_node=places.site_node,
        site_snap_m={site: snap_m for site, (_, snap_m) in snapped.items()},
        places=places,
        routes=routes,
        periods=period_roads(network, scenario.travel.periods, tree_cache_bytes) if scenario.travel else (),
        start_min_of_day=minute_of_day(scenario.clock.start),
    )


def world_key(scenario: Scenario, network: RoadNetwork) -> str:
    """A digest of what a world holds: the network's content, the sites and where they snap, the
    seed, and the road nodes the patrols use. Scenarios that differ only in rates, clocks or which sites the
    plans post units at share one world (its travel tables are the expensive part)."""
    snapped, places, routes = _resolve(scenario, network)
    content = {
        "network": network.content_hash(),
        "sites": [(s.id, s.lat, s.lon) for s in scenario.sites],
        "max_snap_m": scenario.max_snap_m,
        "seed": scenario.seed,  # draws the road pools, also those of plans resolved later
        "destinations": _destinations(places, routes),
    }
    if scenario.travel is not None:  # the periods' tables belong to the world too
        content["travel"] = scenario.travel.model_dump(mode="json")
        content["clock_start"] = scenario.clock.start.isoformat()
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
