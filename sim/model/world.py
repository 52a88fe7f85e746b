"""The world every replication of a scenario shares: snapped sites, resolved patrols, travel tables."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model.movement import Roads
from sim.network import RoadNetwork, snap_sites
from sim.network.routing import TravelTables, travel_tables_for
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
    tables: TravelTables
    roads: Roads
    site_node: dict[str, int]
    site_snap_m: dict[str, float]
    places: Places
    routes: dict[tuple[Any, str], PatrolRoute]  # (patrol mode, base site) -> resolved route

    def route(self, group: UnitGroup) -> PatrolRoute:
        """The group's patrol on road nodes (resolved on first use for a plan built later, e.g.
        by ``Study.with_plan``, as long as its road nodes have travel tables)."""
        key = _route_key(group)
        if key not in self.routes:
            route = group.patrol.resolve(group.base, self.places)
            if not set(route.stops) <= set(self.tables.destinations.tolist()):
                raise ValueError(f"the world has no travel tables for the road nodes of {group.patrol!r}; "
                                 "build the world from a scenario that holds this plan")
            self.routes[key] = route
        return self.routes[key]


def _resolve(scenario: Scenario, network: RoadNetwork) -> tuple[dict[str, tuple[int, float]], Places, dict]:
    snapped = snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites], scenario.max_snap_m)
    places = Places(network, {site: node for site, (node, _) in snapped.items()}, scenario.site_ids, scenario.seed)
    routes = {_route_key(group): group.patrol.resolve(group.base, places)
              for plan in scenario.plans for group in plan.units}
    return snapped, places, routes


def _destinations(places: Places, routes: dict) -> list[int]:
    return sorted(set(places.site_node.values()) | {n for route in routes.values() for n in route.stops})


def build_world(scenario: Scenario, network: RoadNetwork, cache_dir=None) -> World:
    """Snap the sites, resolve every plan's patrols to road nodes and build the travel tables."""
    snapped, places, routes = _resolve(scenario, network)
    tables = travel_tables_for(network, _destinations(places, routes), cache_dir=cache_dir)
    return World(
        network=network,
        tables=tables,
        roads=Roads(network, tables),
        site_node=places.site_node,
        site_snap_m={site: snap_m for site, (_, snap_m) in snapped.items()},
        places=places,
        routes=routes,
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
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
