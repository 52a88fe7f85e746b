"""Coverage of a plan: where its units stand and how fast they reach each road node (no drawing).

Coverage is a best case of *standing* positions, not a simulation: every unit is assumed
free and at one of the places its patrol mode puts it:

- a unit that stands still when free (a post, the base) counts from where it stands;
- a moving unit (a circuit, a random patrol) counts from any of its stops, the listed sites or
  its road-node pool: the best stop for each road, a best case.

From those positions one forward multi-source Dijkstra per speed class gives the travel time
(minutes) to every road node; a unit type with ``speed_factor`` f drives every edge in
``travel_time_s / f``. A directed edge counts as covered when its head node is reached within
the target, so a two-way road counts once per direction, consistently for covered and total
length. Maps shade each road by the band of the later of its two end times.

Patrol modes are asked here only (``plan_spots``: where a mode's units stand, which sites or
road nodes they use, whether they drive a loop), so the map writers draw spots without knowing
the modes, and a new mode is drawn without changes here.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.config.expected import site_rates_per_hour
from sim.i18n import Messages
from sim.model.movement import SECONDS_PER_MIN
from sim.model.world import World
from sim.network import RoadNetwork


@dataclass(frozen=True)
class Coverage:
    """Travel times from a plan's unit positions and the shares reached within the target."""

    time_min: np.ndarray        # float64 (N,) fastest time from any unit position to each node, minutes
    target_min: float
    sites_covered: int          # incident sites whose node is reached within target_min
    n_sites: int
    covered_length_m: float     # directed edges whose head is reached within target_min
    total_length_m: float       # all directed edges

    @property
    def site_share(self) -> float:
        """Share of incident sites reached within the target (0..1)."""
        return self.sites_covered / self.n_sites if self.n_sites else 0.0

    @property
    def road_share(self) -> float:
        """Share of (directed) road length reached within the target (0..1)."""
        return self.covered_length_m / self.total_length_m


def node_times_min(network: RoadNetwork, sources: Sequence[int], speed_factors: Sequence[float]) -> np.ndarray:
    """Minutes from the nearest source to every node; source i drives at speed_factors[i]."""
    if len(sources) == 0 or len(sources) != len(speed_factors):
        raise ValueError("need one speed factor per source, and at least one source")
    by_speed: dict[float, list[int]] = defaultdict(list)
    for node, factor in zip(sources, speed_factors):
        by_speed[float(factor)].append(int(node))
    graph = network.csr()
    best_min = np.full(network.n_nodes, np.inf)
    # One multi-source run per speed class: scaling all edge times by 1/f scales every path alike.
    for factor, nodes in by_speed.items():
        time_s = dijkstra(graph, directed=True, indices=sorted(set(nodes)), min_only=True)
        np.minimum(best_min, time_s / (SECONDS_PER_MIN * factor), out=best_min)
    return best_min


def coverage(
    network: RoadNetwork,
    sources: Sequence[int],
    speed_factors: Sequence[float],
    target_min: float,
    site_nodes: Sequence[int],
) -> Coverage:
    """Coverage of ``network`` from unit positions ``sources`` (node indices) within ``target_min``."""
    time_min = node_times_min(network, sources, speed_factors)
    covered_edge = time_min[network.indices] <= target_min
    return Coverage(
        time_min=time_min,
        target_min=float(target_min),
        sites_covered=int(sum(time_min[n] <= target_min for n in site_nodes)),
        n_sites=len(site_nodes),
        covered_length_m=float(network.length_m[covered_edge].sum()),
        total_length_m=float(network.length_m.sum()),
    )


# ----------------------------------------------------------------------------- plan positions


@dataclass(frozen=True)
class UnitSpot:
    """Where some of a plan's units stand (or may stand) and how fast they drive."""

    mode: str                   # the patrol mode's name, for labels
    unit_type: str
    count: int                  # vehicles in the group
    speed_factor: float
    nodes: tuple[int, ...]      # node indices: one where units stand, the stops or pool otherwise
    sites: tuple[str, ...]      # site ids of those nodes when they are sites ("" for road nodes)
    standing: str | None        # the site where the units stand still, None if they keep moving
    ordered: bool               # the units drive ``nodes`` in order, round and round


@dataclass(frozen=True)
class JointGroup:
    """A joint group of a plan: its patrols joint-``first`` to joint-``first + count - 1`` (numbered in
    plan order, as sim.model.joint numbers them), the agencies riding together, the patrol mode, where
    it stands (a site name) or the sites it drives in order, and what it does on dispatch."""

    first: int
    count: int
    agencies: str
    mode: str
    standing: str | None
    stops: tuple[str, ...]
    on_dispatch: str

    def words(self, m: Messages) -> str:
        """"Joint patrol joint-1: Polri+TNI (circuit A → B → C, split)"."""
        label = (f"joint-{self.first}" if self.count == 1 else
                 m("map.joint.range", first=f"joint-{self.first}", last=f"joint-{self.first + self.count - 1}"))
        mode = mode_words(self.mode, m)
        if self.standing is not None:
            where = m("map.joint.at", mode=mode, site=self.standing)
        elif self.stops:
            where = f"{mode} " + " → ".join(self.stops)
        else:
            where = mode
        dispatch = m(f"map.joint.{self.on_dispatch}") if self.on_dispatch in ("split", "together") else self.on_dispatch
        return m("map.joint" if self.count == 1 else "map.joint.many", label=label, agencies=self.agencies,
                 where=where, dispatch=dispatch)


def mode_words(mode: str, m: Messages) -> str:
    """A patrol mode's name in words (a mode from a plug-in: its own name)."""
    return m(f"map.mode.{mode}") if mode in ("post", "base", "circuit", "random") else mode


def joint_groups(scenario, plan_name: str, places=None) -> list[JointGroup]:
    """The joint groups of a plan, its patrols named as the animation names them. Its vehicles are
    one marker on the map: one circuit line, or one post badge counting them. ``places``: the
    world's ``PatrolWorld`` (a mode that drives its sites in order may need it to name them)."""
    members: dict[int, list] = defaultdict(list)
    for group in scenario.plan(plan_name).units:
        if group.joint_tag is not None:
            members[group.joint_tag[0]].append(group)
    names = {site.id: site.name.split(" (")[0] for site in scenario.sites}
    out, first = [], 1
    for groups in members.values():
        lead, count = groups[0], groups[0].count
        standing = lead.patrol.standing_site(lead.base)
        stops: tuple[str, ...] = ()
        if standing is None and lead.patrol.ORDERED_STOPS:  # a loop through its sites in order: name them
            stops = tuple(names.get(stop, stop) for stop in lead.patrol.sites_visited(lead.base, places))
        agencies = "+".join(scenario.unit_types[g.type].agency for g in groups)
        out.append(JointGroup(first, count, agencies, lead.patrol.mode, None if standing is None else names[standing],
                              stops, lead.joint_tag[1]))
        first += count
    return out


def plan_spots(scenario, world: World, plan_name: str) -> list[UnitSpot]:
    """The unit positions of a plan, one per unit group (see the module docstring); the vehicle
    types of a joint group are one group each, at the same positions."""
    spots = []
    for group in scenario.plan(plan_name).units:
        patrol, route = group.patrol, world.route(group)
        standing = patrol.standing_site(group.base)
        if standing is not None:
            nodes, sites = (world.site_node[standing],), (standing,)
        else:
            nodes = route.stops
            sites = patrol.sites_visited(group.base, world.places) or ("",) * len(nodes)
        spots.append(UnitSpot(patrol.mode, group.type, group.count, scenario.unit_types[group.type].speed_factor,
                              nodes, sites, standing, patrol.ORDERED_STOPS))
    return spots


def standing_counts(spots: Sequence[UnitSpot]) -> dict[str, int]:
    """Vehicles standing still (at a post or base) per site id, in plan order."""
    standing: dict[str, int] = defaultdict(int)
    for spot in spots:
        if spot.standing is not None:
            standing[spot.standing] += spot.count
    return dict(standing)


def road_pools(spots: Sequence[UnitSpot]) -> list[tuple[int, ...]]:
    """The road-node pools of moving patrols among road nodes (not among sites)."""
    return [spot.nodes for spot in spots if spot.standing is None and spot.sites[0] == ""]


def circuit_stops(spots: Sequence[UnitSpot]) -> list[tuple[int, ...]]:
    """The stops (node indices, in driving order) of each loop driven (a loop driven by several
    groups, e.g. the vehicles of a joint patrol, once)."""
    return list(dict.fromkeys(spot.nodes for spot in spots if spot.ordered))


def incident_sites(scenario) -> list[str]:
    """Ids of the sites with expected incidents over the measured clock (sim.config.expected), in
    scenario order."""
    struck = site_rates_per_hour(scenario)
    return [s.id for s in scenario.sites if s.id in struck]


def plan_coverage(scenario, world: World, plan_name: str) -> Coverage:
    """Coverage of one plan: from its unit spots, for its incident sites, within the scenario target."""
    spots = plan_spots(scenario, world, plan_name)
    sources = [n for spot in spots for n in spot.nodes]
    factors = [spot.speed_factor for spot in spots for _ in spot.nodes]
    site_nodes = [world.site_node[s] for s in incident_sites(scenario)]
    return coverage(world.network, sources, factors, scenario.target_response_min, site_nodes)


def share_lines(cov: Coverage, m: Messages) -> list[str]:
    """The legend's drive-time figures, in words that say what they are: travel time from where the
    units stand, every unit free (a best case, not the simulated response)."""
    target = m.num(cov.target_min, "g")
    return [
        m("map.reach.sites", target=target, covered=m.num(cov.sites_covered, ","), sites=m.num(cov.n_sites, ","),
          share=m.num(cov.site_share, ".0%")),
        m("map.reach.roads", target=target, share=m.num(cov.road_share, ".1%"),
          covered=m.num(cov.covered_length_m / 1000, ",.0f"), total=m.num(cov.total_length_m / 1000, ",.0f")),
    ]


def difference_km(cov_a: Coverage, cov_b: Coverage) -> float:
    """Covered road length of the second plan minus the first, km."""
    return (cov_b.covered_length_m - cov_a.covered_length_m) / 1000


def difference_line(first: str, cov_a: Coverage, second: str, cov_b: Coverage, m: Messages) -> str:
    """The compare map's headline: covered road length of the second plan minus the first."""
    diff_points = (cov_b.road_share - cov_a.road_share) * 100
    return m("map.difference", target=m.num(cov_a.target_min, "g"), first=first, second=second,
             km=m.num(difference_km(cov_a, cov_b), "+,.1f"), points=m.num(diff_points, "+.1f"))


# ----------------------------------------------------------------------------- what a map shows of a plan


@dataclass(frozen=True)
class PlanLayer:
    """What one plan adds to a map."""

    name: str
    description: str
    spots: list[UnitSpot]
    coverage: Coverage
    circuits: list[np.ndarray]      # node paths along the roads, one per circuit group (closed)
    standing: dict[str, int]        # site id -> vehicles standing there (posts, bases)
    pools: list[tuple[int, ...]]    # road-node pools of random patrols
    joints: list[JointGroup]

    def legend(self, m: Messages) -> list[str]:
        """The drive-time figures and the joint patrols, in words."""
        return share_lines(self.coverage, m) + [joint.words(m) for joint in self.joints]


def circuit_path(network: RoadNetwork, stops: Sequence[int]) -> np.ndarray:
    """The node path of a closed circuit along the fastest roads between its stops."""
    graph = network.csr()
    path = [int(stops[0])]
    for a, b in zip(stops, list(stops[1:]) + [stops[0]]):
        _, pred = dijkstra(graph, directed=True, indices=int(a), return_predecessors=True)
        leg = [int(b)]
        while leg[-1] != a:
            leg.append(int(pred[leg[-1]]))
        path.extend(reversed(leg[:-1]))
    return np.asarray(path)


def plan_layer(scenario, world: World, plan_name: str) -> PlanLayer:
    """Coverage, unit spots, circuit paths and standing vehicles of one plan."""
    plan = scenario.plan(plan_name)
    spots = plan_spots(scenario, world, plan_name)
    cov = plan_coverage(scenario, world, plan_name)
    circuits = [circuit_path(world.network, stops) for stops in circuit_stops(spots)]
    return PlanLayer(plan.name, plan.description, spots, cov, circuits, standing_counts(spots), road_pools(spots),
                     joint_groups(scenario, plan_name, world.places))


# ----------------------------------------------------------------------------- roads and bands


def drawn_edges(network: RoadNetwork) -> np.ndarray:
    """Edge ids to draw: one per road, i.e. a two-way road once (its tail < head direction).

    Only an edge not going up (tail >= head) is looked up among the sorted edges for its reverse, by
    binary search: a quarter of the time of ``np.isin`` over every edge."""
    tails, heads = network.edge_tails, network.indices.astype(np.int64)
    if len(tails) == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.sort(tails * network.n_nodes + heads)
    down = np.flatnonzero(tails >= heads)
    reverse = heads[down] * network.n_nodes + tails[down]
    found = keys[np.minimum(np.searchsorted(keys, reverse), len(keys) - 1)] == reverse
    drawn = np.ones(len(tails), dtype=bool)
    drawn[down] = ~found
    return np.flatnonzero(drawn)


def node_bands(time_min: np.ndarray, bands_min: Sequence[float]) -> np.ndarray:
    """Band index of every node (0 = within bands_min[0], len(bands_min) = beyond the last band)."""
    return np.searchsorted(np.asarray(bands_min, float), time_min, side="left")


# Codes of ``coverage_change``: how an edge's coverage within the target changes from one plan to another.
NEITHER, BOTH, GAINED, LOST = range(4)


def edge_within(network: RoadNetwork, time_min: np.ndarray, target_min: float) -> np.ndarray:
    """Per edge: True when both its ends are reached within ``target_min`` (as the map shades it)."""
    return np.maximum(time_min[network.edge_tails], time_min[network.indices]) <= target_min


def coverage_change(network: RoadNetwork, time_a_min: np.ndarray, time_b_min: np.ndarray,
                    target_min: float) -> np.ndarray:
    """Per edge (int8): NEITHER, BOTH, GAINED (second plan only) or LOST (first plan only)."""
    a = edge_within(network, time_a_min, target_min)
    b = edge_within(network, time_b_min, target_min)
    return np.select([a & b, b & ~a, a & ~b], [BOTH, GAINED, LOST], NEITHER).astype(np.int8)


def edge_bands(network: RoadNetwork, time_min: np.ndarray, bands_min: Sequence[float]) -> np.ndarray:
    """Band index of every edge (0 = within bands_min[0], len(bands_min) = beyond the last band).

    An edge takes the band of the later of its two end times, which is the same both ways.
    """
    later_min = np.maximum(time_min[network.edge_tails], time_min[network.indices])
    return node_bands(later_min, bands_min)
