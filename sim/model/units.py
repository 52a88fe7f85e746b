"""Patrol units as SimPy processes: the patrol loop (driven by the unit's patrol mode), service at
incidents, and the books (busy time, distance, jobs, the movement trace).

A unit's process runs every event of its unit, so it is kept lean (it bounds how many incidents
a second the model simulates): no generator for a drive that stays put, and a unit standing still
is woken by the event it waits on rather than by a SimPy interrupt: triggered as SimPy triggers an
interrupt (urgent, now: the same place in SimPy's queue, so the same results to the bit) without
the interrupt's extra event, its two exception objects and its search of the callbacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, NamedTuple

import numpy as np
import simpy
from simpy.events import URGENT, Timeout

from sim.model.movement import SECONDS_PER_MIN, Leg, Position, Roads
from sim.plugins.patrols import PatrolRoute

if TYPE_CHECKING:
    from sim.model.incidents import Incident
    from sim.model.joint import JointPatrol


@dataclass(frozen=True)
class TracedLeg:
    """A leg as driven, for maps and animations: it may end early (the unit was dispatched)."""

    leg: Leg
    t_end_min: float
    state: str  # patrolling | to_incident | returning


class Job(NamedTuple):
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


class _Dispatched(Exception):
    """Raised in a standing unit's patrol loop when it is woken for an incident: ends the loop."""


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
    watch: Any = None  # told of legs and duty (sim.model.presence.Presence) when detection or deterrence is on
    joint: JointPatrol | None = None  # the joint patrol it belongs to (sim.model.joint), if any

    def __post_init__(self) -> None:
        self.position = Position(self.base)
        self.leg: Leg | None = None
        self._patrolling = False  # inside the interruptible patrol loop
        self._busy_since_min = 0.0
        self._t_arrival_min = 0.0  # on scene of the present job since (a pre-empted job's books)
        self.next_stop = 0  # a circuit goes on from here after an interruption
        self._back_to_base = False
        self.leg_state = "patrolling"  # of the current leg: patrolling | to_incident | returning
        self._returning = False
        self._standing: simpy.Event | None = None  # what a unit standing still waits for
        self._tables = self.roads.tables
        self._per_min = SECONDS_PER_MIN * self.speed_factor  # seconds of travel per minute of this unit
        self.off_duty: simpy.Event | None = None  # while off duty (sim.model.shifts): fires when back on
        self.shift = None  # duty books (sim.model.shifts.ShiftBooks) when the plan's units come and go
        self.process = self.env.process(self._run())

    # -- what the dispatcher sees --------------------------------------------------

    @property
    def free(self) -> bool:
        return self.incident is None

    def position_now(self) -> Position:
        return self.position if self.leg is None else self.leg.position_at(self.env.now)

    def eta_min(self, dest: int) -> float:
        """Minutes this unit needs from where it is now to ``dest``."""
        position = self.position
        if self.leg is None and position.head < 0:  # at a node: asked for every free unit, so inline
            return self._tables.time_s_to(dest, position.node) / self._per_min
        return self.roads.time_s(self.position_now(), dest) / self._per_min

    def assign(self, incident: Incident) -> None:
        """Send this free unit to an incident (called by the dispatcher)."""
        if self.joint is not None:
            self.joint.leaving(self, dispatched=True)
        self.incident = incident
        self._busy_since_min = self.env.now
        self._stop_patrol()

    def go_off_duty(self) -> None:
        """Off duty (sim.model.shifts): a patrolling unit stops where it is; one on a job finishes it."""
        if self.joint is not None:
            self.joint.leaving(self, dispatched=False)
        self.off_duty = self.env.event()
        self._stop_patrol()
        if self.watch is not None:
            self.watch.duty_changed(self)

    def go_on_duty(self) -> None:
        """Back on duty: a fresh crew starts at the base (a unit still on its job carries on)."""
        gate, self.off_duty = self.off_duty, None
        if self.incident is None:
            self.position, self.next_stop = Position(self.base), 0
            self._back_to_base = self._returning = False
        if self.joint is not None:
            self.joint.back_on_duty(self)
        if self.watch is not None:
            self.watch.duty_changed(self)
        if gate is not None:
            gate.succeed()

    def _stop_patrol(self) -> None:
        """End the patrol loop now (to serve an incident or to go off duty)."""
        if self._patrolling:
            self._patrolling = False
            standing = self._standing
            if standing is None:
                self.process.interrupt()
            else:  # as simpy.events.Interruption does: triggered and scheduled urgent, now
                self._standing = None
                standing._ok, standing._value = True, None
                self.env.schedule(standing, URGENT)

    # -- the process -----------------------------------------------------------------

    def _run(self) -> Generator:
        while True:
            if self.incident is None:
                try:
                    self._patrolling = True
                    if self.off_duty is not None:  # off duty: wait (not dispatchable) until back on
                        yield self.off_duty
                    if self.joint is not None and not self.joint.leads(self):
                        yield from self.joint.follow(self)  # rides along, or finds the patrol again
                        continue
                    if self._back_to_base:
                        yield from self._drive(self.base, "returning")
                        self._back_to_base = self._returning = False
                    yield from self.patrol.drive(self)
                except (simpy.Interrupt, _Dispatched):
                    self._standing = None  # an interrupt may also end a unit's standing
                    if self.leg is not None:
                        self._stop_leg()
            else:
                yield from self._serve()

    # -- what a patrol mode's loop may do (sim.plugins.patrols.PatrolUnit) -----------------

    def patrol_to(self, node: int) -> Iterable:
        """Drive to ``node`` as part of the patrol (the first such leg after a job is the way back)."""
        return self._drive(node, self._after_service_state())

    def stand_at(self, node: int) -> Generator:
        """Drive to ``node`` and stand there until dispatched."""
        yield from self.patrol_to(node)
        self._standing = standing = self.env.event()
        yield standing
        raise _Dispatched

    def dwell(self, minutes: float) -> simpy.Timeout:
        return self.env.timeout(minutes)

    # -- serving an incident -----------------------------------------------------------------

    def _serve(self) -> Generator:
        incident, env, stats = self.incident, self.env, self.stats
        assert incident is not None and self.on_arrival is not None and self.on_departure is not None
        try:
            yield from self._drive(incident.node, "to_incident")
            self.on_arrival(self, incident)
            self._t_arrival_min = t_arrival_min = env.now
            yield Timeout(env, incident.stage.on_scene_min)
        except simpy.Interrupt:  # pre-empted (divert): off to a more urgent incident, from here
            if self.leg is not None:
                self._stop_leg()
            return
        t_leave_min, t_dispatch_min = env.now, self._busy_since_min
        start, end = self.window_min
        stats.busy_min += max(0.0, min(t_leave_min, end) - max(t_dispatch_min, start))
        stats.incidents_served += int(incident.counted)
        stats.jobs.append(Job(incident.spec.incident_id, t_dispatch_min, t_arrival_min, t_leave_min))
        self.incident = None
        self.on_departure(self, incident)
        if self.incident is None and self.after_service == "return_to_base":
            self._back_to_base = True
        self._returning = True

    def divert(self, incident: Incident, on_scene: bool) -> None:
        """Pre-empted (sim.model.dispatch): leave the present job now for ``incident``; a job left on
        scene is booked as served until now."""
        now, old, start, end = self.env.now, self.incident, *self.window_min
        assert old is not None
        self.stats.busy_min += max(0.0, min(now, end) - max(self._busy_since_min, start))
        if on_scene:
            self.stats.incidents_served += int(old.counted)
            self.stats.jobs.append(Job(old.spec.incident_id, self._busy_since_min, self._t_arrival_min, now))
        self._busy_since_min, self.incident = now, incident
        self.process.interrupt()

    def _after_service_state(self) -> str:
        """The first leg after a job is the way back; later legs are patrol."""
        state = "returning" if self._returning else "patrolling"
        self._returning = False
        return state

    def _drive(self, dest: int, state: str) -> Iterable:
        """The drive to ``dest``, to ``yield from``: nothing at all when the unit is there."""
        position = self.position
        if position.node == dest and position.head < 0:
            return ()
        return self._drive_leg(dest, state)

    def _drive_leg(self, dest: int, state: str) -> Generator:
        self.leg_state = state
        self.leg = self.roads.leg(self.position, dest, self.env.now, self.speed_factor)
        if self.joint is not None:
            self.joint.leg_started(self)
        if self.watch is not None:
            self.watch.leg_started(self, self.leg)
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
        if self.watch is not None:
            self.watch.leg_ended(self, now)
        if self.joint is not None:
            self.joint.leg_ended(self, arrived)

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

    def busy_fraction(self) -> float:
        """Share of the measurement window spent assigned to incidents (counting an open job)."""
        busy = self.stats.busy_min
        if self.incident is not None:
            start, end = self.window_min
            busy += max(0.0, min(self.env.now, end) - max(self._busy_since_min, start))
        return busy / (self.window_min[1] - self.window_min[0])
