"""Patrol units: where a vehicle is, how it drives, and its patrol loop as a SimPy process.

A unit drives a whole leg (route to one destination) with one timeout; its position at any
moment is interpolated along the leg, so a unit dispatched mid-drive leaves from where it
is, possibly mid-edge.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generator

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.model.dispatch import Dispatcher
    from sim.model.incidents import Incident
    from sim.network.roads import RoadNetwork
    from sim.network.routing import TravelTables

SECONDS_PER_MIN = 60.0


@dataclass(frozen=True)
class Position:
    """At ``node`` when ``head`` is -1; otherwise on edge node->head, ``fraction`` of its time along."""

    node: int
    head: int = -1
    fraction: float = 0.0


@dataclass(frozen=True)
class Leg:
    """One drive along a route. Times are minutes for this unit (speed factor applied)."""

    t_start_min: float
    nodes: np.ndarray  # route nodes; the unit may start partway along the first edge
    cum_min: np.ndarray  # time to reach each node from nodes[0]
    cum_m: np.ndarray  # road distance to each node from nodes[0]
    elapsed0_min: float  # how far along cum_min the unit already is at t_start_min

    @property
    def t_end_min(self) -> float:
        # Remaining time first: (start + total) - elapsed can round to before the start.
        return self.t_start_min + (float(self.cum_min[-1]) - self.elapsed0_min)

    def position_at(self, t_min: float) -> Position:
        """Where the unit is at time ``t_min`` (clamped to the leg)."""
        elapsed = min(max(self.elapsed0_min + t_min - self.t_start_min, 0.0), float(self.cum_min[-1]))
        i = int(np.searchsorted(self.cum_min, elapsed, side="right")) - 1
        if i >= len(self.nodes) - 1:
            return Position(int(self.nodes[-1]))
        fraction = (elapsed - self.cum_min[i]) / (self.cum_min[i + 1] - self.cum_min[i])
        if fraction <= 0.0:
            return Position(int(self.nodes[i]))
        return Position(int(self.nodes[i]), int(self.nodes[i + 1]), float(fraction))

    def distance_m_at(self, t_min: float) -> float:
        """Road distance from nodes[0] at time ``t_min`` (constant speed within an edge)."""
        if t_min >= self.t_end_min:  # most legs are driven to the end: skip the interpolation
            return float(self.cum_m[-1])
        elapsed = self.elapsed0_min + t_min - self.t_start_min
        return float(np.interp(elapsed, self.cum_min, self.cum_m))


class Roads:
    """Routes and travel times over the network, from the travel tables (no graph search)."""

    def __init__(self, network: RoadNetwork, tables: TravelTables):
        self.network = network
        self.tables = tables
        tails = network.edge_tails
        self._edge_id = {(int(u), int(v)): e for e, (u, v) in enumerate(zip(tails, network.indices))}
        self._routes: dict[tuple[int, int, float], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _edge(self, tail: int, head: int) -> int | None:
        return self._edge_id.get((tail, head))

    def route(self, origin: int, dest: int, speed_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fastest route: nodes, cumulative time (min, at this speed factor) and distance (m) at each node.

        Cached: patrols drive the same few routes over and over.
        """
        key = (origin, dest, speed_factor)
        if key not in self._routes:
            nodes, cum_s = self.tables.route(origin, dest)
            edges = [self._edge_id[(int(u), int(v))] for u, v in zip(nodes[:-1], nodes[1:])]
            cum_m = np.concatenate(([0.0], np.cumsum(self.network.length_m[edges])))
            cum_min = np.asarray(cum_s, float) / (SECONDS_PER_MIN * speed_factor)
            self._routes[key] = (np.asarray(nodes), cum_min, cum_m)
        return self._routes[key]

    def _ways_out(self, position: Position, dest: int) -> list[tuple[float, int, int]]:
        """From a point mid-edge: (time s to dest, first node, second node) going on or turning back."""
        tail, head, fraction = position.node, position.head, position.fraction
        forward = self._edge(tail, head)
        t_forward = self.network.travel_time_s[forward]
        ways = [((1.0 - fraction) * t_forward + self.tables.time_s_to(dest, head), tail, head)]
        backward = self._edge(head, tail)
        if backward is not None:  # a two-way road: the unit may turn around
            t_back = self.network.travel_time_s[backward]
            ways.append((fraction * t_back + self.tables.time_s_to(dest, tail), head, tail))
        return ways

    def time_s(self, position: Position, dest: int) -> float:
        """Travel time (s, at speed factor 1) from a position to a destination node."""
        if position.head < 0:
            return self.tables.time_s_to(dest, position.node)
        return min(self._ways_out(position, dest))[0]

    def leg(self, position: Position, dest: int, t_now_min: float, speed_factor: float) -> Leg:
        """The fastest leg from a position (node or mid-edge) to a destination node."""
        if position.head < 0:
            nodes, cum_min, cum_m = self.route(position.node, dest, speed_factor)
            return Leg(t_now_min, nodes, cum_min, cum_m, 0.0)
        _, first, second = min(self._ways_out(position, dest))
        edge = self._edge(first, second)
        edge_min = self.network.travel_time_s[edge] / (SECONDS_PER_MIN * speed_factor)
        edge_m = self.network.length_m[edge]
        # Along first->second the unit has covered `fraction` going on, 1 - fraction turning back.
        done = position.fraction if first == position.node else 1.0 - position.fraction
        nodes, cum_min, cum_m = self.route(second, dest, speed_factor)
        return Leg(
            t_now_min,
            np.concatenate(([first], nodes)),
            np.concatenate(([0.0], edge_min + cum_min)),
            np.concatenate(([0.0], edge_m + cum_m)),
            done * edge_min,
        )


@dataclass(frozen=True)
class PatrolRoute:
    """A unit's patrol resolved to road nodes."""

    mode: str  # post | circuit | random | base
    stops: tuple[int, ...] = ()  # post: (post,); circuit: stops in order; random: the pool
    dwell_min: float = 0.0


@dataclass(frozen=True)
class TracedLeg:
    """A leg as driven, for maps and animations: it may end early (the unit was dispatched)."""

    leg: Leg
    t_end_min: float
    state: str  # patrolling | to_incident | returning


@dataclass(frozen=True)
class Job:
    """One incident a unit served: dispatch, arrival on scene, departure (minutes)."""

    incident_id: int
    t_dispatch_min: float
    t_arrival_min: float
    t_leave_min: float


@dataclass
class UnitStats:
    """What a unit did: busy time and distance inside the measurement window; every job."""

    busy_min: float = 0.0
    driven_m: float = 0.0
    incidents_served: int = 0
    jobs: list[Job] = field(default_factory=list)


@dataclass(eq=False)
class Unit:
    """One vehicle and crew, run as a SimPy process."""

    env: simpy.Environment
    unit_id: str
    unit_type: str
    agency: str
    speed_factor: float
    base: int
    base_site: str
    patrol: PatrolRoute
    roads: Roads
    rng: np.random.Generator
    after_service: str  # resume | return_to_base
    window_min: tuple[float, float]  # statistics count inside [start, end)
    dispatcher: Dispatcher | None = None
    incident: Incident | None = None
    stats: UnitStats = field(default_factory=UnitStats)
    trace: list[TracedLeg] | None = None  # every leg driven, when tracing movement

    def __post_init__(self) -> None:
        self.position = Position(self.base)
        self.leg: Leg | None = None
        self._patrolling = False  # inside the interruptible patrol loop
        self._busy_since_min = 0.0
        self._next_stop = 0
        self._back_to_base = False
        self.leg_state = "patrolling"  # of the current leg: patrolling | to_incident | returning
        self._returning = False
        self.process = self.env.process(self._run())

    # -- what the dispatcher sees --------------------------------------------------

    @property
    def free(self) -> bool:
        return self.incident is None

    def position_now(self) -> Position:
        return self.position if self.leg is None else self.leg.position_at(self.env.now)

    def eta_min(self, dest: int) -> float:
        """Minutes this unit needs from where it is now to ``dest``."""
        return self.roads.time_s(self.position_now(), dest) / (SECONDS_PER_MIN * self.speed_factor)

    def assign(self, incident: Incident) -> None:
        """Send this free unit to an incident (called by the dispatcher)."""
        self.incident = incident
        self._busy_since_min = self.env.now
        if self._patrolling:
            self._patrolling = False
            self.process.interrupt()

    # -- the process -----------------------------------------------------------------

    def _run(self) -> Generator:
        while True:
            if self.incident is None:
                try:
                    self._patrolling = True
                    yield from self._patrol()
                except simpy.Interrupt:
                    self._stop_leg()
            else:
                yield from self._serve()

    def _patrol(self) -> Generator:
        if self._back_to_base:
            yield from self._drive(self.base, "returning")
            self._back_to_base = self._returning = False
        mode, stops = self.patrol.mode, self.patrol.stops
        if len(set(stops)) == 1:  # a loop over one road node (sites snapped together) is a post
            mode = "post"
        if mode in ("post", "base"):
            yield from self._drive(stops[0] if mode == "post" else self.base, self._after_service_state())
            yield self.env.event()  # stand there until dispatched
        while True:
            if mode == "circuit":
                stop = stops[self._next_stop]
                yield from self._drive(stop, self._after_service_state())
                self._next_stop = (self._next_stop + 1) % len(stops)
            else:
                yield from self._drive(stops[int(self.rng.integers(len(stops)))], self._after_service_state())
            yield self.env.timeout(self.patrol.dwell_min)

    def _serve(self) -> Generator:
        incident = self.incident
        assert incident is not None and self.dispatcher is not None
        yield from self._drive(self.dispatcher.site_node[incident.spec.site], "to_incident")
        self.dispatcher.arrived(self, incident)
        t_arrival_min = self.env.now
        yield self.env.timeout(incident.stage.on_scene_min)
        self._count_busy(self._busy_since_min, self.env.now)
        self.stats.incidents_served += int(incident.counted)
        self.stats.jobs.append(Job(incident.spec.incident_id, self._busy_since_min, t_arrival_min, self.env.now))
        self.incident = None
        self.dispatcher.left(self, incident)
        if self.incident is None and self.after_service == "return_to_base":
            self._back_to_base = True
        self._returning = True

    def _after_service_state(self) -> str:
        """The first leg after a job is the way back; later legs are patrol."""
        state = "returning" if self._returning else "patrolling"
        self._returning = False
        return state

    def _drive(self, dest: int, state: str) -> Generator:
        if self.position.node == dest and self.position.head < 0:
            return
        self.leg_state = state
        self.leg = self.roads.leg(self.position, dest, self.env.now, self.speed_factor)
        yield self.env.timeout(self.leg.t_end_min - self.env.now)
        self._stop_leg(arrived=True)

    def _stop_leg(self, arrived: bool = False) -> None:
        """End the current leg now: at its destination node when ``arrived`` (never a rounding
        error short of it), else wherever the unit is along it. Counts the distance driven."""
        leg = self.leg
        if leg is None:
            return
        now = self.env.now
        self._count_driven(leg, now, arrived)
        if self.trace is not None:
            self.trace.append(TracedLeg(leg, now, self.leg_state))
        self.position = Position(int(leg.nodes[-1])) if arrived else leg.position_at(now)
        self.leg = None

    def _count_driven(self, leg: Leg, t_min: float, arrived: bool = False) -> None:
        """Add the distance driven on ``leg`` until ``t_min`` that falls inside the window."""
        start, end = self.window_min
        t0, t1 = max(leg.t_start_min, start), min(t_min, end)
        if t1 > t0:
            to_m = float(leg.cum_m[-1]) if arrived and t1 == t_min else leg.distance_m_at(t1)
            self.stats.driven_m += to_m - leg.distance_m_at(t0)

    def close_books(self) -> None:
        """At the end of a run: count the part of a leg still being driven (the leg stays open)."""
        if self.leg is not None:
            self._count_driven(self.leg, self.env.now)

    def _count_busy(self, t_from: float, t_to: float) -> None:
        start, end = self.window_min
        self.stats.busy_min += max(0.0, min(t_to, end) - max(t_from, start))

    def busy_fraction(self) -> float:
        """Share of the measurement window spent assigned to incidents (counting an open job)."""
        busy = self.stats.busy_min
        if self.incident is not None:
            start, end = self.window_min
            busy += max(0.0, min(self.env.now, end) - max(self._busy_since_min, start))
        return busy / (self.window_min[1] - self.window_min[0])
