"""Patrol units as SimPy processes: the patrol loop (driven by the unit's patrol mode), service at
incidents, and the books (busy time, distance, jobs, the movement trace)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generator

import numpy as np
import simpy

from sim.model.movement import SECONDS_PER_MIN, Leg, Position, Roads
from sim.plugins.patrols import PatrolRoute

if TYPE_CHECKING:
    from sim.model.incidents import Incident


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
    # Told to whoever dispatches (set by the dispatcher): reached the scene; left it, free again.
    on_arrival: Callable[[Unit, Incident], None] | None = None
    on_departure: Callable[[Unit, Incident], None] | None = None
    incident: Incident | None = None
    stats: UnitStats = field(default_factory=UnitStats)
    trace: list[TracedLeg] | None = None  # every leg driven, when tracing movement

    def __post_init__(self) -> None:
        self.position = Position(self.base)
        self.leg: Leg | None = None
        self._patrolling = False  # inside the interruptible patrol loop
        self._busy_since_min = 0.0
        self.next_stop = 0  # a circuit goes on from here after an interruption
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
        yield from self.patrol.drive(self)

    # -- what a patrol mode's loop may do (sim.plugins.patrols.PatrolUnit) -----------------

    def patrol_to(self, node: int) -> Generator:
        """Drive to ``node`` as part of the patrol (the first such leg after a job is the way back)."""
        yield from self._drive(node, self._after_service_state())

    def stand_at(self, node: int) -> Generator:
        """Drive to ``node`` and stand there until dispatched."""
        yield from self.patrol_to(node)
        yield self.env.event()

    def dwell(self, minutes: float) -> simpy.Timeout:
        return self.env.timeout(minutes)

    # -- serving an incident -----------------------------------------------------------------

    def _serve(self) -> Generator:
        incident = self.incident
        assert incident is not None and self.on_arrival is not None and self.on_departure is not None
        yield from self._drive(incident.node, "to_incident")
        self.on_arrival(self, incident)
        t_arrival_min = self.env.now
        yield self.env.timeout(incident.stage.on_scene_min)
        self._count_busy(self._busy_since_min, self.env.now)
        self.stats.incidents_served += int(incident.counted)
        self.stats.jobs.append(Job(incident.spec.incident_id, self._busy_since_min, t_arrival_min, self.env.now))
        self.incident = None
        self.on_departure(self, incident)
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
