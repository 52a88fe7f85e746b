"""The simulation of one plan for one replication."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import simpy

from sim.model.dispatch import Dispatcher
from sim.model.incidents import MIN_PER_HOUR, Incident, IncidentSpec, draw_incidents
from sim.model.units import Unit
from sim.model.world import World
from sim.streams import STREAM_ARRIVALS, STREAM_ON_SCENE, STREAM_PATROL, STREAM_SITES, stream

if TYPE_CHECKING:
    from sim.config import Scenario


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
    for group in plan.units:
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
                    roads=world.roads,
                    # By position in the plan: a plan and its copy with one more unit patrol alike.
                    rng=stream(scenario.seed, rep, STREAM_PATROL, len(units)),
                    after_service=scenario.dispatch.after_service,
                    window_min=(warmup_min, horizon_min),
                    trace=[] if trace else None,
                )
            )
    dispatcher = Dispatcher(env, units, scenario.dispatch.policy, scenario.dispatch.queue)
    incidents = [Incident(spec, counted=spec.t_created_min >= warmup_min, node=world.site_node[spec.site])
                 for spec in specs]

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
