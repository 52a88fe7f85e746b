"""The simulation of one plan for one replication."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import simpy
from simpy.events import Timeout

from sim.model.dispatch import Dispatcher, Rules
from sim.model.eligibility import site_demand, type_rules
from sim.model.joint import joint_patrols
from sim.model.incidents import MIN_PER_HOUR, Incident, IncidentSpec, draw_incidents
from sim.model.presence import start_presence
from sim.config.calendar import PhaseTimes
from sim.model.shifts import fleet_groups, fleet_unit_ids, plan_duty, start_shifts
from sim.model.units import Unit
from sim.model.world import World
from sim.streams import STREAM_ARRIVALS, STREAM_ON_SCENE, STREAM_PATROL, STREAM_SITES, stream

if TYPE_CHECKING:
    from sim.config import Scenario


_pause_lock = threading.Lock()
_pauses = 0  # simulations running in this process with the collector paused (Dask runs them in threads)
_collector_was_on = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a replication runs (reference counting goes on).

    A run keeps every incident's record alive, and the collector's full passes re-scan all of
    them: at 64,000 incidents that was a third of the run's time. A run makes no cyclic garbage to
    collect (measured: none), so nothing is left waiting. Nested and concurrent pauses count:
    the collector is on again when the last one ends, if it was on before the first.
    """
    global _pauses, _collector_was_on
    with _pause_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


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
    presence: tuple[str, ...] = ()  # the scenario's blocks among detection, deterrence (their columns)
    preempted: dict[int, int] | None = None  # incident id -> times pre-empted (None: no dispatch.preempt)
    joint_columns: bool = False  # some plan of the scenario has joint patrols (units.csv: joint_patrol)


@collector_paused()
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
    joint = joint_patrols(plan, units)
    rules = Rules(type_rules(scenario), scenario.dispatch.preempt, bool(joint),
                  site_demand(scenario, world.site_node) if scenario.dispatch.policy == "coverage" else (),
                  scenario.target_response_min, scenario.dispatch.coverage_slack_min)
    dispatcher = Dispatcher(env, units, scenario.dispatch.policy, scenario.dispatch.queue, rules)
    if plan.shifts:  # units come and go: by phase and by the hour
        start = scenario.clock.start
        duty = plan_duty(plan, PhaseTimes.of(scenario.calendar, start), start.hour * 60.0 + start.minute, horizon_min)
        start_shifts(env, units, duty, dispatcher)
    incidents = [Incident(spec, counted=spec.t_created_min >= warmup_min, node=world.site_node[spec.site])
                 for spec in specs]

    presence = start_presence(scenario, world.network, env, units, dispatcher, incidents, rep)

    def report_incidents():
        new_incident = dispatcher.new_incident if presence is None else presence.arise
        for incident in incidents:
            yield Timeout(env, incident.spec.t_created_min - env.now)
            new_incident(incident)

    env.process(report_incidents())
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
    return RepResult(plan.name, rep, incidents, units, env.now, blocks, preempted, joint_columns)
