"""The simulation of one plan for one replication, and the world it runs in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import simpy

from sim.model.dispatch import Dispatcher
from sim.model.incidents import MIN_PER_HOUR, Incident, IncidentSpec, draw_incidents
from sim.network.roads import RoadNetwork, snap_sites
from sim.network.routing import TravelTables, travel_tables_for
from sim.model.units import PatrolRoute, Roads, Unit

if TYPE_CHECKING:
    from sim.config import Scenario


# Purposes of the random streams; their numbers are part of the reproducibility contract.
STREAM_ARRIVALS, STREAM_SITES, STREAM_ON_SCENE, STREAM_PATROL, STREAM_POOL = range(5)


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for (seed, key...): same key, same numbers, in any process."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass(frozen=True)
class World:
    """What every replication of a scenario shares: roads, site nodes and patrol pools."""

    network: RoadNetwork
    tables: TravelTables
    roads: Roads
    site_node: dict[str, int]
    site_snap_m: dict[str, float]
    road_pools: dict[tuple[str, int], tuple[int, ...]]  # (plan, unit group index) -> nodes


def _road_pool(network: RoadNetwork, base: int, size: int, radius_km: float, rng: np.random.Generator) -> tuple[int, ...]:
    """``size`` road nodes within ``radius_km`` (straight line) of the base, drawn at random."""
    dist_m = np.hypot(network.x_m - network.x_m[base], network.y_m - network.y_m[base])
    near = np.flatnonzero(dist_m <= radius_km * 1000.0)
    return tuple(int(n) for n in rng.choice(near, size=min(size, len(near)), replace=False))


def build_world(scenario: Scenario, network: RoadNetwork, cache_dir=None) -> World:
    """Snap the sites, draw the random-patrol road pools and build the travel tables."""
    snapped = snap_sites(network, [(s.id, s.lon, s.lat) for s in scenario.sites], scenario.max_snap_m)
    site_node = {site: node for site, (node, _) in snapped.items()}
    pools: dict[tuple[str, int], tuple[int, ...]] = {}
    for plan in scenario.plans:
        for group_index, group in enumerate(plan.units):
            patrol = group.patrol
            if patrol.mode == "random" and patrol.road_nodes:
                base = site_node[group.base]
                # Keyed by what defines the pool, so equal groups in two plans patrol alike.
                rng = stream(scenario.seed, STREAM_POOL, base, patrol.road_nodes, round(patrol.radius_km * 1000))
                pool = _road_pool(network, base, patrol.road_nodes, patrol.radius_km, rng)
                pools[(plan.name, group_index)] = pool
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


def _patrol(world: World, plan_name: str, group_index: int, patrol) -> PatrolRoute:
    node = world.site_node
    if patrol.mode == "post":
        return PatrolRoute("post", (node[patrol.at],))
    if patrol.mode == "circuit":
        return PatrolRoute("circuit", tuple(node[s] for s in patrol.route), patrol.dwell_min)
    if patrol.mode == "random":
        pool = world.road_pools.get((plan_name, group_index)) or tuple(node[s] for s in patrol.sites)
        return PatrolRoute("random", pool, patrol.dwell_min)
    return PatrolRoute("base")


def unit_ids(plan) -> list[str]:
    """Unit ids of a plan, in unit order: the type and a count within the type (``polri_car-2``)."""
    ids, per_type = [], {}
    for group in plan.units:
        for _ in range(group.count):
            per_type[group.type] = per_type.get(group.type, 0) + 1
            ids.append(f"{group.type}-{per_type[group.type]}")
    return ids


@dataclass(frozen=True)
class RepResult:
    """Records of one replication of one plan."""

    plan: str
    rep: int
    incidents: list[Incident]
    units: list[Unit]
    end_min: float  # when the run stopped (after the last incident was answered)


def simulate(
    scenario: Scenario,
    world: World,
    plan_name: str,
    rep: int,
    trace: bool = False,
    incident_specs: Sequence[IncidentSpec] | None = None,
) -> RepResult:
    """Run one replication of one plan: same incidents for every plan (common random numbers).

    With ``trace`` every unit keeps the legs it drove (``Unit.trace``), for maps and animations.
    ``incident_specs`` replays given incidents instead of drawing the replication's own.
    """
    plan = scenario.plan(plan_name)
    horizon_min = scenario.clock.duration_hours * MIN_PER_HOUR
    warmup_min = scenario.clock.warmup_hours * MIN_PER_HOUR
    n_types = len(scenario.disturbances)
    streams = {
        purpose: [stream(scenario.seed, rep, code, t) for t in range(n_types)]
        for purpose, code in (("arrivals", STREAM_ARRIVALS), ("sites", STREAM_SITES), ("on_scene", STREAM_ON_SCENE))
    }
    specs = draw_incidents(scenario, horizon_min, streams) if incident_specs is None else list(incident_specs)

    env = simpy.Environment()
    units: list[Unit] = []
    ids = iter(unit_ids(plan))
    for group_index, group in enumerate(plan.units):
        unit_type = scenario.unit_types[group.type]
        patrol = _patrol(world, plan.name, group_index, group.patrol)
        for _ in range(group.count):
            units.append(
                Unit(
                    env=env,
                    unit_id=next(ids),
                    unit_type=group.type,
                    agency=unit_type.agency,
                    speed_factor=unit_type.speed_factor,
                    base=world.site_node[group.base],
                    base_site=group.base,
                    patrol=patrol,
                    roads=world.roads,
                    # By position in the plan: a plan and its copy with one more unit patrol alike.
                    rng=stream(scenario.seed, rep, STREAM_PATROL, len(units)),
                    after_service=scenario.dispatch.after_service,
                    window_min=(warmup_min, horizon_min),
                    trace=[] if trace else None,
                )
            )
    dispatcher = Dispatcher(env, units, world.site_node, scenario.dispatch.queue)
    incidents = [Incident(spec, counted=spec.t_created_min >= warmup_min) for spec in specs]

    def report_incidents():
        for incident in incidents:
            yield env.timeout(incident.spec.t_created_min - env.now)
            dispatcher.new_incident(incident)

    env.process(report_incidents())
    env.run(until=horizon_min)
    # Follow every incident created before the end until all its units are on scene.
    if dispatcher.unanswered > 0:
        dispatcher.all_answered = env.event()
        env.run(until=dispatcher.all_answered)
    for unit in units:
        unit.close_books()
    return RepResult(plan.name, rep, incidents, units, env.now)
