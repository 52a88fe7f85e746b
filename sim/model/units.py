"""Patrol units as SimPy processes: the patrol loop (driven by the unit's patrol mode), service at
incidents, and the books (busy time, distance, jobs).

A unit's public face:
- its state, read-only: ``incident``, ``position``, ``leg``, ``leg_state``, ``on_duty``,
  ``on_scene``, ``available``;
- what the dispatcher does with it: ``eta_min``, ``assign`` (also to pre-empt a busy unit);
- what shifts do with it: ``go_off_duty``, ``go_on_duty``;
- what a patrol mode's loop may do (``sim.plugins.patrols.PatrolUnit``): ``patrol_to``,
  ``stand_at``, ``dwell``, ``random_index`` (``rng.integers(n)``'s numbers, ``sim.streams.IndexDraws``);
- what a joint patrol does with its members: ``patrol_with`` (its own loop for their free time),
  ``stand_by`` and ``wake``, ``ride`` and ``stop_leg``, ``back_on_patrol``.

Features that watch a unit (the movement trace, joint patrols, detection and deterrence, shift
books) register a ``UnitObserver`` with ``observe`` and are told of its legs, duty and jobs; the
unit runs no test for any of them. The unit tells its dispatcher (``Dispatch``) when it reaches a
scene, leaves one, and comes on duty.

A unit's process runs every event of its unit, so it is kept lean (it bounds how many incidents a
second the model simulates): no generator for a drive that stays put. A patrolling unit, driving or
standing, is stopped by ``Process.interrupt`` (SimPy's documented way to end a process's wait:
urgent, at once); only public SimPy names are used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, NamedTuple, Protocol

import numpy as np
import simpy
from simpy.events import Timeout

from sim.model.movement import SECONDS_PER_MIN, Leg, Position, Roads, at_node
from sim.plugins.patrols import PatrolRoute
from sim.streams import IndexDraws

if TYPE_CHECKING:
    from sim.model.incidents import Incident


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


def _job(fields: tuple[int, float, float, float]) -> Job:
    """A Job from its fields in order, without the named tuple's Python-level ``__new__`` (once per job)."""
    return tuple.__new__(Job, fields)


@dataclass
class UnitStats:
    """What a unit did: busy time and distance inside the measurement window; every job."""

    busy_min: float = 0.0
    driven_m: float = 0.0
    incidents_served: int = 0
    jobs: list[Job] = field(default_factory=list)


class UnitObserver:
    """Told what a unit does (``Unit.observe``); each method does nothing unless overridden.
    Observers are told in the order they were registered."""

    def leg_started(self, unit: Unit, leg: Leg) -> None:
        """``unit`` began to drive ``leg`` (or to ride it with its joint patrol's leader)."""

    def leg_ended(self, unit: Unit, leg: Leg, arrived: bool) -> None:
        """``unit``'s leg ended now: at its last node when ``arrived``, else where the unit is along it."""

    def leaving_patrol(self, unit: Unit, dispatched: bool) -> None:
        """``unit``, free, is about to be dispatched (or, not ``dispatched``, to go off duty)."""

    def duty_changed(self, unit: Unit) -> None:
        """``unit`` has just gone off duty, or come back on (a fresh crew at its base)."""

    def job_done(self, unit: Unit, incident: Incident) -> None:
        """``unit`` has just left the scene of ``incident`` (before the dispatcher offers it more)."""


_NEWS = ("leg_started", "leg_ended", "leaving_patrol", "duty_changed", "job_done")  # UnitObserver's methods


class Dispatch(Protocol):
    """What a unit tells whoever dispatches it (``sim.model.dispatch.Dispatcher``): it reached a
    scene, left one (free again), went off or came on duty."""

    def arrived(self, unit: Unit, incident: Incident) -> None: ...

    def left(self, unit: Unit, incident: Incident) -> None: ...

    def duty_changed(self, unit: Unit) -> None: ...


class Tracer(UnitObserver):
    """Keeps every leg a unit drove, as it ended (``Unit.trace``)."""

    def __init__(self, legs: list[TracedLeg]):
        self.legs = legs

    def leg_ended(self, unit: Unit, leg: Leg, arrived: bool) -> None:
        self.legs.append(TracedLeg(leg, unit.env.now, unit.leg_state))


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
    rng: np.random.Generator  # its patrol stream (random_index reads it ahead: a mode uses one or the other)
    after_service: str  # resume | return_to_base
    window_min: tuple[float, float]  # statistics count inside [start, end)
    stats: UnitStats = field(default_factory=UnitStats)
    trace: list[TracedLeg] | None = None  # every leg driven, when tracing movement
    dispatcher: Dispatch | None = None  # set by the dispatcher
    joint_patrol: str = ""  # label of the joint patrol it belongs to ("": none), set by sim.model.joint
    shift: Any = None  # duty books (sim.model.shifts.ShiftBooks) when the plan's units come and go

    def __post_init__(self) -> None:
        self.next_stop = 0  # a circuit goes on from here after an interruption
        self._position = Position(self.base)
        self._leg: Leg | None = None
        self._leg_state = "patrolling"  # of the current leg: patrolling | to_incident | returning
        self._incident: Incident | None = None
        self._off_duty: simpy.Event | None = None  # while off duty: fires when back on
        self._on_scene = False
        self._patrolling = False  # inside the interruptible free-time loop
        self._standing = False  # standing still in it (stand_by) until woken
        self._busy_since_min = 0.0
        self._t_arrival_min = 0.0  # on scene of the present job since (a pre-empted job's books)
        self._back_to_base = False
        self._returning = False
        # Per kind of news, the observers' methods that do something (overridden), in order of registration.
        self._told: dict[str, list[Callable]] = {name: [] for name in _NEWS}
        if self.trace is not None:
            self.observe(Tracer(self.trace))
        self._free_time: Callable[[Unit], Iterable] | None = None  # patrol_with; None: the patrol mode
        self._tables = self.roads.tables
        self._per_min = SECONDS_PER_MIN * self.speed_factor  # seconds of travel per minute of this unit
        # What a standing unit waits on: never triggered (the wake interrupts the wait, which takes
        # the unit's process off it), so one event serves every wait.
        self._never = self.env.event()
        self.random_index = IndexDraws(self.rng)
        self.process = self.env.process(self._run())

    # -- state -------------------------------------------------------------------------------

    @property
    def incident(self) -> Incident | None:
        """The incident it is assigned to (driving there or on scene), or None."""
        return self._incident

    @property
    def free(self) -> bool:
        return self._incident is None

    @property
    def on_duty(self) -> bool:
        return self._off_duty is None

    @property
    def available(self) -> bool:
        """Free and on duty: the dispatcher may send it."""
        return self._incident is None and self._off_duty is None

    @property
    def on_scene(self) -> bool:
        """On the scene of its incident (arrived, not yet left)."""
        return self._on_scene

    @property
    def position(self) -> Position:
        """Where it stands, or where its current leg began."""
        return self._position

    @property
    def leg(self) -> Leg | None:
        """The leg it is driving (or riding), or None while it stands."""
        return self._leg

    @property
    def leg_state(self) -> str:
        """What the current (or last) leg is for: patrolling | to_incident | returning."""
        return self._leg_state

    @property
    def standing(self) -> bool:
        """Standing still, free, until woken (on a post, at its base, waiting for its joint patrol)."""
        return self._standing

    def position_now(self) -> Position:
        return self._position if self._leg is None else self._leg.position_at(self.env.now)

    def observe(self, observer: UnitObserver) -> None:
        """Tell ``observer`` from now on what this unit does."""
        for name, told in self._told.items():
            if getattr(type(observer), name) is not getattr(UnitObserver, name):  # the base does nothing
                told.append(getattr(observer, name))

    # -- what the dispatcher does ----------------------------------------------------------

    def eta_min(self, dest: int) -> float:
        """Minutes this unit needs from where it is now to ``dest``."""
        position = self._position
        if self._leg is None and position.head < 0:  # at a node: asked for every free unit, so inline
            return self._tables.time_s_to(dest, position.node) / self._per_min
        return self.roads.time_s(self.position_now(), dest) / self._per_min

    def assign(self, incident: Incident) -> None:
        """Send this unit to ``incident``. A free unit ends its patrol where it is; a busy one is
        pre-empted: it leaves its job now, booked as served until now if it was on scene."""
        if self._incident is not None:
            self._divert(incident)
            return
        for tell in self._told["leaving_patrol"]:
            tell(self, True)
        self._incident = incident
        self._busy_since_min = self.env.now
        self._stop_patrol()

    def _divert(self, incident: Incident) -> None:
        now, old, start, end = self.env.now, self._incident, *self.window_min
        assert old is not None
        self.stats.busy_min += max(0.0, min(now, end) - max(self._busy_since_min, start))
        if self._on_scene:
            self.stats.incidents_served += int(old.counted)
            self.stats.jobs.append(_job((old.spec.incident_id, self._busy_since_min, self._t_arrival_min, now)))
        self._on_scene = False
        self._busy_since_min, self._incident = now, incident
        self.process.interrupt()

    # -- duty (sim.model.shifts) ---------------------------------------------------------------

    def go_off_duty(self) -> None:
        """Off duty: a patrolling unit stops where it is; one on a job finishes it."""
        for tell in self._told["leaving_patrol"]:
            tell(self, False)
        self._off_duty = self.env.event()
        self._stop_patrol()
        for tell in self._told["duty_changed"]:
            tell(self)
        if self.dispatcher is not None:
            self.dispatcher.duty_changed(self)

    def go_on_duty(self) -> None:
        """Back on duty: a fresh crew starts at the base (a unit still on its job carries on); free,
        it is offered work by its dispatcher."""
        gate, self._off_duty = self._off_duty, None
        if self._incident is None:
            self._position, self.next_stop = Position(self.base), 0
            self._back_to_base = self._returning = False
        for tell in self._told["duty_changed"]:
            tell(self)
        if gate is not None:
            gate.succeed()
        if self.dispatcher is not None:
            self.dispatcher.duty_changed(self)

    # -- waking and standing ------------------------------------------------------------------

    def _stop_patrol(self) -> None:
        """End the free-time loop now, driving or standing (to serve an incident, to go off duty)."""
        if self._patrolling:
            self._patrolling = self._standing = False
            self.process.interrupt()

    def wake(self) -> None:
        """A unit standing still (``stand_by``) stops now: its free-time loop ends and it looks
        again at what to do. A unit not standing is left alone."""
        if self._standing:
            self._stop_patrol()

    def stand_by(self) -> Generator:
        """Stand still here, free, until woken (``wake``, or dispatched, or off duty): the wake
        ends the free-time loop this is part of."""
        self._standing = True
        yield self._never

    # -- the process -----------------------------------------------------------------------

    def _run(self) -> Generator:
        while True:
            if self._incident is None:
                try:
                    self._patrolling = True
                    if self._off_duty is not None:  # off duty: wait (not dispatchable) until back on
                        yield self._off_duty
                    if self._free_time is None:
                        yield from self.patrol_loop()
                    else:
                        yield from self._free_time(self)
                except simpy.Interrupt:
                    if self._leg is not None:
                        self.stop_leg()
            else:
                yield from self._serve()

    def patrol_loop(self) -> Iterable:
        """A free unit's time, to ``yield from``: back to base first if it is due there, then its
        patrol mode's loop (that loop itself when the unit is not due at its base)."""
        if self._back_to_base:
            return self._home_then_patrol()
        return self.patrol.drive(self)

    def _home_then_patrol(self) -> Generator:
        yield from self._drive(self.base, "returning")
        self._back_to_base = self._returning = False
        yield from self.patrol.drive(self)

    def patrol_with(self, free_time: Callable[[Unit], Iterable]) -> None:
        """Spend the unit's free time in ``free_time(unit)`` instead of ``patrol_loop`` (a joint
        patrol's member: it leads with ``patrol_loop`` or rides along)."""
        self._free_time = free_time

    def back_on_patrol(self) -> None:
        """Back with its patrol after a job (a joint patrol's member riding again): no way back to
        drive, and its next leg is patrol."""
        self._returning = self._back_to_base = False

    # -- what a patrol mode's loop may do (sim.plugins.patrols.PatrolUnit) -----------------

    def patrol_to(self, node: int) -> Iterable:
        """Drive to ``node`` as part of the patrol (the first such leg after a job is the way back)."""
        return self._drive(node, self._after_service_state())

    def stand_at(self, node: int) -> Generator:
        """Drive to ``node`` and stand there until dispatched (or off duty)."""
        yield from self.patrol_to(node)
        self._standing = True  # as stand_by, without a generator of its own (every free spell of a post)
        yield self._never

    def dwell(self, minutes: float) -> simpy.Timeout:
        return Timeout(self.env, minutes)

    # -- serving an incident -----------------------------------------------------------------

    def _serve(self) -> Generator:
        incident, env, stats, dispatcher = self._incident, self.env, self.stats, self.dispatcher
        assert incident is not None and dispatcher is not None
        try:
            position = self._position
            if position.node != incident.node or position.head >= 0:  # else there already (as _drive)
                yield from self._drive_leg(incident.node, "to_incident")
            self._on_scene = True
            dispatcher.arrived(self, incident)
            self._t_arrival_min = t_arrival_min = env.now
            yield Timeout(env, incident.stage.on_scene_min)
        except simpy.Interrupt:  # pre-empted: off to a more urgent incident, from here
            if self._leg is not None:
                self.stop_leg()
            return
        self._on_scene = False
        t_leave_min, t_dispatch_min = env.now, self._busy_since_min
        start, end = self.window_min
        stats.busy_min += max(0.0, min(t_leave_min, end) - max(t_dispatch_min, start))
        stats.incidents_served += int(incident.counted)
        stats.jobs.append(_job((incident.spec.incident_id, t_dispatch_min, t_arrival_min, t_leave_min)))
        self._incident = None
        for tell in self._told["job_done"]:
            tell(self, incident)
        dispatcher.left(self, incident)
        if self._incident is None and self.after_service == "return_to_base":
            self._back_to_base = True
        self._returning = True

    # -- legs ----------------------------------------------------------------------------------

    def _after_service_state(self) -> str:
        """The first leg after a job is the way back; later legs are patrol."""
        state = "returning" if self._returning else "patrolling"
        self._returning = False
        return state

    def _drive(self, dest: int, state: str) -> Iterable:
        """The drive to ``dest``, to ``yield from``: nothing at all when the unit is there."""
        position = self._position
        if position.node == dest and position.head < 0:
            return ()
        return self._drive_leg(dest, state)

    def _drive_leg(self, dest: int, state: str) -> Generator:
        env = self.env
        self._leg_state = state
        self._leg = leg = self.roads.leg(self._position, dest, env.now, self.speed_factor)
        for tell in self._told["leg_started"]:
            tell(self, leg)
        yield Timeout(env, leg.t_end_min - env.now)
        self.stop_leg(arrived=True)

    def ride(self, leg: Leg, state: str) -> None:
        """Ride along on ``leg``, driven by a joint patrol's leader (it ends with ``stop_leg``)."""
        self._leg, self._leg_state = leg, state
        for tell in self._told["leg_started"]:
            tell(self, leg)

    def stop_leg(self, arrived: bool = False) -> None:
        """End the current leg now: at its destination node when ``arrived`` (never a rounding
        error short of it), else wherever the unit is along it. Counts the distance driven."""
        leg = self._leg
        if leg is None:
            return
        now = self.env.now
        self._count_driven(leg, now, arrived)
        self._position = at_node(leg.end_node) if arrived else leg.position_at(now)
        self._leg = None
        for tell in self._told["leg_ended"]:
            tell(self, leg, arrived)

    def _count_driven(self, leg: Leg, t_min: float, arrived: bool = False) -> None:
        """Add the distance driven on ``leg`` until ``t_min`` that falls inside the window."""
        start, end = self.window_min
        t0, t1 = max(leg.t_start_min, start), min(t_min, end)
        if t1 > t0:
            to_m = leg.total_m if arrived and t1 == t_min else leg.distance_m_at(t1)
            self.stats.driven_m += to_m - leg.distance_m_at(t0)

    # -- books ---------------------------------------------------------------------------------

    def close_books(self) -> None:
        """At the end of a run: count the part of a leg still being driven (the leg stays open)."""
        if self._leg is not None:
            self._count_driven(self._leg, self.env.now)

    def busy_fraction(self) -> float:
        """Share of the measurement window spent assigned to incidents (counting an open job)."""
        busy = self.stats.busy_min
        if self._incident is not None:
            start, end = self.window_min
            busy += max(0.0, min(self.env.now, end) - max(self._busy_since_min, start))
        return busy / (self.window_min[1] - self.window_min[0])
