"""The simulation of one plan for one replication."""
from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generator, Sequence

import simpy
from simpy.events import Timeout

from sim.config.calendar import PhaseTimes
from sim.config.clock import minute_of_day
from sim.model.dispatch import Dispatcher, Rules
from sim.model.eligibility import site_demand, type_rules
from sim.model.incidents import MIN_PER_HOUR, Incident, IncidentSpec, draw_incidents
from sim.model.joint import JointPatrol, joint_patrols
from sim.model.presence import start_presence
from sim.model.shifts import fleet_groups, fleet_unit_ids, plan_duty, start_shifts
from sim.model.units import Unit
from sim.model.world import World
from sim.plugins.dispatch import POLICIES
from sim.streams import STREAM_ARRIVALS, STREAM_ON_SCENE, STREAM_PATROL, STREAM_SITES, stream

if TYPE_CHECKING:
    from sim.config import Scenario


class CollectorPaused(ContextDecorator):
    """Pauses Python's cyclic garbage collector while a replication runs (reference counting goes
    on); a context manager and a decorator.

    A run keeps every incident's record alive, and the collector's full passes re-scan all of
    them: at 64,000 incidents that was a third of the run's time. While it runs a replication makes
    no cyclic garbage to collect (measured: none); once it has ended and is dropped, its units, their
    SimPy processes and their jobs form one reference cycle, which the collector frees on a later
    pass (about a tenth of a short replication's time). A caller that makes rows from the result
    keeps its own pause until it drops it, or the first pass scans the live records. Nested and
    concurrent pauses count (Dask runs replications in threads): the collector is on again when
    the last one ends, if it was on before the first, however the run ends (an exception, Ctrl-C,
    a generator closed).
    """

    _lock = threading.Lock()
    _pauses = 0  # pauses in force in this process
    _was_on = False  # the collector's state before the first of them

    def __enter__(self) -> CollectorPaused:
        cls = type(self)
        with cls._lock:
            if cls._pauses == 0:
                cls._was_on = gc.isenabled()
            cls._pauses += 1
            try:
                gc.disable()
            except BaseException:  # interrupted half-way: as if never entered
                self._release()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        with type(self)._lock:
            self._release()

    @classmethod
    def _release(cls) -> None:
        # On before the count goes down: an interruption in between leaves the collector on.
        if cls._pauses == 1 and cls._was_on:
            gc.enable()
        cls._pauses -= 1


def unit_ids(plan) -> list[str]:
    """Unit ids of a plan, in unit order: the type and a count within the type (``polri_car-2``)."""
    ids, per_type = [], {}
    for group in plan.units:
        for _ in range(group.count):
            per_type[group.type] = per_type.get(group.type, 0) + 1
            ids.append(f"{group.type}-{per_type[group.type]}")
    return ids


def report_in_turn(env: simpy.Environment, incidents: Sequence[Incident], report: Callable[[Incident], None]) -> None:
    """Call ``report(incident)`` for each of ``incidents`` (in order of creation) at its creation time.

    A chain of timeouts, each reporting its incident and then arming the next, started by a process
    that does only that (so every event keeps its place in SimPy's order, as when one process
    reported them all): a callback costs less than resuming a process, once per incident."""
    pending = iter(incidents)

    def arm() -> None:
        incident = next(pending, None)
        if incident is not None:
            Timeout(env, incident.spec.t_created_min - env.now, incident).callbacks.append(fire)

    def fire(event: Timeout) -> None:
        report(event.value)
        arm()

    def start() -> Generator:
        arm()
        yield from ()

    env.process(start())


@dataclass(frozen=True)
class RepResult:
    """Records of one replication of one plan."""

    plan: str
    rep: int
    incidents: list[Incident]
    units: list[Unit]
    end_min: float  # when the run stopped (after the last incident was answered)
    presence: tuple[str, ...] = ()  # the scenario's blocks among detection, deterrence (their columns)
    preempted: dict[int, int] | None = None  # incident id -> times pre-empted (None: no dispatch.preempt)
    joint_columns: bool = False  # some plan of the scenario has joint patrols (units.csv: joint_patrol)
    joint_patrols: tuple[JointPatrol, ...] = field(default=(), repr=False)  # this plan's, as they ended


@CollectorPaused()
def simulate(
    scenario: Scenario,
    world: World,
    plan_name: str,
    rep: int,
    trace: bool = False,
    incident_specs: Sequence[IncidentSpec] | None = None,
    left_out_event: str | None = None,
) -> RepResult:
    """Run one replication of one plan: same incidents for every plan (common random numbers).

    With ``trace`` every unit keeps the legs it drove (``Unit.trace``), for maps and animations.
    ``incident_specs`` replays given incidents instead of drawing the replication's own.
    ``left_out_event``: that event's incidents are drawn, and drawn for (report delays, deterrence),
    but never arise, so every other incident keeps its draws: the replication without the event.
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
    ids = iter(fleet_unit_ids(plan))
    roads = world.roads_for(env)  # with travel periods: the roads of the hour
    for _, group in fleet_groups(plan):  # the plan's own units, then each phase fleet's
        unit_type = scenario.unit_types[group.type]
        patrol = world.route(group)
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
                    roads=roads,
                    # By position in the plan: a plan and its copy with one more unit patrol alike.
                    rng=stream(scenario.seed, rep, STREAM_PATROL, len(units)),
                    after_service=scenario.dispatch.after_service,
                    window_min=(warmup_min, horizon_min),
                    trace=[] if trace else None,
                )
            )
    policy = POLICIES[scenario.dispatch.policy]
    demand = site_demand(scenario, world.site_node) if getattr(policy, "needs_site_demand", False) else ()
    rules = Rules(type_rules(scenario), scenario.dispatch.preempt, demand, scenario.target_response_min,
                  scenario.dispatch.coverage_slack_min)
    dispatcher = Dispatcher(env, units, scenario.dispatch.policy, scenario.dispatch.queue, rules)
    joint = joint_patrols(plan, units, dispatcher)
    if plan.shifts:  # units come and go: by phase and by the hour
        start = scenario.clock.start
        duty = plan_duty(plan, PhaseTimes.of(scenario.calendar, start), minute_of_day(start), horizon_min)
        start_shifts(env, units, duty)
    incidents = [Incident(spec, counted=spec.t_created_min >= warmup_min, node=world.site_node[spec.site])
                 for spec in specs]

    presence = start_presence(scenario, world.network, env, units, dispatcher, incidents, rep)

    arising = incidents if left_out_event is None else [i for i in incidents if i.spec.event != left_out_event]
    report_in_turn(env, arising, dispatcher.new_incident if presence is None else presence.arise)
    env.run(until=horizon_min)
    # Follow every incident created before the end until all its units are on scene.
    if dispatcher.unanswered > 0:
        dispatcher.all_answered = env.event()
        env.run(until=dispatcher.all_answered)
    for unit in units:
        unit.close_books()
    blocks = tuple(name for name in ("detection", "deterrence") if getattr(scenario, name) is not None)
    preempted = None if scenario.dispatch.preempt is None else \
        {incident.spec.incident_id: n for incident, n in dispatcher.preempted.items()}
    joint_columns = any(group.joint_tag is not None for p in scenario.plans for _, group in fleet_groups(p))
    return RepResult(plan.name, rep, incidents, units, env.now, blocks, preempted, joint_columns, tuple(joint))
