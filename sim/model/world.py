"""The world every replication of a scenario shares: snapped sites, patrol road pools, travel tables."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.units import Roads
from sim.network.roads import RoadNetwork, snap_sites
from sim.network.routing import TravelTables, travel_tables_for
from sim.streams import STREAM_POOL, stream

if TYPE_CHECKING:
    from sim.config import Scenario


@dataclass(frozen=True)
class World:
    """What every replication of a scenario shares: roads, site nodes and patrol pools."""

    network: RoadNetwork
    tables: TravelTables
    roads: Roads
    site_node: dict[str, int]
    site_snap_m: dict[str, float]
    road_pools: dict[tuple[str, int, float], tuple[int, ...]]  # pool_key(group) -> road nodes


def _road_pool(network: RoadNetwork, base: int, size: int, radius_km: float, rng: np.random.Generator) -> tuple[int, ...]:
    """``size`` road nodes within ``radius_km`` (straight line) of the base, drawn at random."""
    dist_m = np.hypot(network.x_m - network.x_m[base], network.y_m - network.y_m[base])
    near = np.flatnonzero(dist_m <= radius_km * 1000.0)
    return tuple(int(n) for n in rng.choice(near, size=min(size, len(near)), replace=False))


def pool_key(group) -> tuple[str, int, float]:
    """What defines a random patrol's road pool: base site, size and radius (km)."""
    return group.base, group.patrol.road_nodes, group.patrol.radius_km


def build_world(scenario: Scenario, network: RoadNetwork, cache_dir=None) -> World:
    """Snap the sites, draw the random-patrol road pools and build the travel tables."""
    snapped = snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites], scenario.max_snap_m)
    site_node = {site: node for site, (node, _) in snapped.items()}
    pools: dict[tuple[str, int, float], tuple[int, ...]] = {}
    for plan in scenario.plans:
        for group in plan.units:
            patrol = group.patrol
            if patrol.mode == "random" and patrol.road_nodes:
                base = site_node[group.base]
                # Keyed by what defines the pool, so equal groups in two plans patrol alike.
                rng = stream(scenario.seed, STREAM_POOL, base, patrol.road_nodes, round(patrol.radius_km * 1000))
                pool = _road_pool(network, base, patrol.road_nodes, patrol.radius_km, rng)
                pools[pool_key(group)] = pool
    destinations = sorted(set(site_node.values()) | {n for pool in pools.values() for n in pool})
    tables = travel_tables_for(network, destinations, cache_dir=cache_dir)
    return World(
        network=network,
        tables=tables,
        roads=Roads(network, tables),
        site_node=site_node,
        site_snap_m={site: snap_m for site, (_, snap_m) in snapped.items()},
        road_pools=pools,
    )


def world_key(scenario: Scenario, network: RoadNetwork) -> str:
    """What a world depends on, as a digest: the network's content, the sites and how far they
    may snap, the seed (road pools) and every random patrol's pool. Two scenarios that differ only
    in rates, plans' posts or clocks share one world."""
    pools = [(group.base, group.patrol.road_nodes, group.patrol.radius_km)
             for plan in scenario.plans for group in plan.units
             if group.patrol.mode == "random" and group.patrol.road_nodes]
    content = {
        "network": network.content_hash(),
        "sites": [(s.id, s.lat, s.lon) for s in scenario.sites],
        "max_snap_m": scenario.max_snap_m,
        "seed": scenario.seed,
        "pools": sorted(set(pools)),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
