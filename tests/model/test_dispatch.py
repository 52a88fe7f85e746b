"""Dispatch rules, escalation and unit bookkeeping on hand-made incidents with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from sim.model.incidents import IncidentSpec, Stage, draw_incidents
from sim.model.records import incident_rows, unit_rows
from sim.model import build_world, simulate
from sim.streams import STREAM_ARRIVALS, STREAM_ON_SCENE, STREAM_SITES, stream
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import network_from_edges


@pytest.fixture(scope="module")
def line():
    """Three nodes on a line, 1 km apart, both ways, 1 minute per kilometre (60 km/h)."""
    return network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [60.0] * 4, x_m=np.array([0.0, 1000.0, 2000.0]))


def one_type(**extra) -> list[dict]:
    return [{"type": "fight", "rate_per_hour": 1.0, "sites": "all", "on_scene_min": {"dist": "fixed", "value": 10},
             "priority": 2, **extra}]


def stage(type_: str, priority: int, on_scene_min: float, escalate_after_min: float | None = None,
          units_required: int = 1) -> Stage:
    return Stage(type_, priority, units_required, on_scene_min, escalate_after_min)


def run(tmp_path, network, data, specs, plan="plan"):
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, network, cache_dir=tmp_path)
    result = simulate(scenario, world, plan, 0, trace=True, incident_specs=specs)
    return {row["incident_id"]: row for row in incident_rows(result)}, result


@pytest.mark.parametrize("queue, served_second", [("priority", 3), ("fifo", 2)])
def test_a_freed_unit_takes_the_most_urgent_waiting_incident_or_the_oldest(tmp_path, line, queue, served_second):
    data = base_scenario([site_at(line, 0, "square")], one_type(),
                         [{"type": "car", "count": 1, "base": "square", "patrol": {"mode": "post", "at": "square"}}],
                         hours=2, reps=1)
    data["dispatch"]["queue"] = queue
    specs = [IncidentSpec(1, "square", 0.0, (stage("fight", 2, 10.0),)),
             IncidentSpec(2, "square", 1.0, (stage("fight", 2, 10.0),)),
             IncidentSpec(3, "square", 2.0, (stage("riot", 1, 10.0),))]
    rows, _ = run(tmp_path, line, data, specs)
    assert rows[1]["t_first_dispatch_min"] == 0.0
    assert rows[served_second]["t_first_dispatch_min"] == 10.0  # when the one unit frees up
    assert rows[5 - served_second]["t_first_dispatch_min"] == 20.0


def test_an_unanswered_incident_escalates_stage_by_stage(tmp_path, line):
    """The only unit is 2 minutes away: escalation after 0.5 min, then 1 min after that."""
    data = base_scenario([site_at(line, 0, "base", "police_hq"), site_at(line, 2, "square")], one_type(),
                         [{"type": "car", "count": 1, "base": "base", "patrol": {"mode": "base"}}], hours=2, reps=1)
    chain = (stage("provocation", 3, 5.0, escalate_after_min=0.5), stage("unrest", 2, 20.0, escalate_after_min=1.0),
             stage("riot", 1, 40.0))
    slow = (stage("provocation", 3, 5.0, escalate_after_min=3.0), stage("unrest", 2, 20.0))
    rows, _ = run(tmp_path, line, data, [IncidentSpec(1, "square", 0.0, chain),
                                         IncidentSpec(2, "square", 60.0, slow)])
    # Unanswered at 0.5 min it became unrest, and 1 min later (1.5 < 2) a riot.
    assert (rows[1]["escalated"], rows[1]["escalated_to"], rows[1]["priority"], rows[1]["on_scene_min"]) == (
        1, "riot", 1, 40.0)
    assert rows[1]["type"] == "provocation" and rows[1]["response_min"] == pytest.approx(2.0)
    # Reached after 2 minutes, before its 3-minute limit: it stays a provocation.
    assert (rows[2]["escalated"], rows[2]["escalated_to"], rows[2]["on_scene_min"]) == (0, "", 5.0)


def test_an_escalation_that_needs_more_units_sends_more(tmp_path, line):
    data = base_scenario([site_at(line, 0, "base", "police_hq"), site_at(line, 2, "square")], one_type(),
                         [{"type": "car", "count": 3, "base": "base", "patrol": {"mode": "base"}}], hours=2, reps=1)
    chain = (stage("provocation", 2, 5.0, escalate_after_min=1.0), stage("unrest", 1, 20.0, units_required=3))
    rows, result = run(tmp_path, line, data, [IncidentSpec(1, "square", 0.0, chain)])
    assert rows[1]["units_sent"] == 3 and rows[1]["units_required"] == 3
    assert rows[1]["response_min"] == pytest.approx(2.0)  # the first car, sent at once
    assert rows[1]["full_response_min"] == pytest.approx(3.0)  # the other two, sent at the escalation
    assert sorted(len(u.stats.jobs) for u in result.units) == [1, 1, 1]


def test_kilometres_and_busy_time_count_only_the_measured_window(tmp_path):
    """A car shuttles between two sites 1 km apart, 0.7 min each way, for an hour (the warm-up's
    end and the clock's end fall mid-street); a posted car serves two 10-minute incidents, one
    during the 15-minute warm-up."""
    line = network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [42.0] * 4, x_m=np.array([0.0, 1000.0, 2000.0]))
    sites = [site_at(line, 0, "a"), site_at(line, 1, "b"), site_at(line, 2, "c")]
    units = [{"type": "car", "count": 1, "base": "b", "patrol": {"mode": "circuit", "route": ["c", "b"], "dwell_min": 0}},
             {"type": "slow_car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}}]
    data = base_scenario(sites, one_type(), units, hours=1, reps=1, warmup=0.25)
    specs = [IncidentSpec(1, "a", 10.0, (stage("fight", 2, 10.0),)),
             IncidentSpec(2, "a", 40.0, (stage("fight", 2, 10.0),))]
    # Both incidents are at the post: the posted car (0 min away) goes, the shuttle (1+ min) keeps shuttling.
    _, result = run(tmp_path, line, data, specs)
    shuttle, posted = unit_rows(result)
    assert shuttle["km_driven"] == pytest.approx(45.0 / 0.7)  # minutes 15..60 at 1 km per 0.7 min
    assert shuttle["busy_fraction"] == 0.0
    assert posted["km_driven"] == 0.0
    # Busy 15..20 (the warm-up incident's end) and 40..50, in a 45-minute window.
    assert posted["busy_fraction"] == pytest.approx(15.0 / 45.0)
    assert posted["incidents_served"] == 1  # only the counted one


def test_a_finished_drive_ends_exactly_at_its_node(tmp_path, line):
    data = base_scenario([site_at(line, 0, "a"), site_at(line, 2, "b")], one_type(),
                         [{"type": "car", "count": 1, "base": "a",
                           "patrol": {"mode": "circuit", "route": ["b", "a"], "dwell_min": 0.1}}], hours=100, reps=1)
    _, result = run(tmp_path, line, data, [])
    legs = result.units[0].trace
    assert len(legs) > 1000
    for before, after in zip(legs, legs[1:]):
        # Late in the run 100 h of minutes have eaten the last bits: still no mid-street stops.
        assert after.leg.elapsed0_min == 0.0 and after.leg.nodes[0] == before.leg.nodes[-1]


def test_a_shorter_clock_sees_the_first_part_of_a_longer_clocks_incidents(tmp_path, line):
    data = base_scenario([site_at(line, 0, "a"), site_at(line, 2, "b")],
                         one_type(on_scene_min={"dist": "lognormal", "mean": 30, "sd": 10},
                                  hourly_profile=[0.5] * 8 + [1.5] * 8 + [1.0] * 8),
                         [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "base"}}], hours=1, reps=1)
    scenario = scenario_file(tmp_path, data)

    def incidents(hours: float) -> list[IncidentSpec]:
        streams = {purpose: [stream(7, 3, code, 0)] for purpose, code in
                   (("arrivals", STREAM_ARRIVALS), ("sites", STREAM_SITES), ("on_scene", STREAM_ON_SCENE))}
        return draw_incidents(scenario, hours * 60, streams)

    week, day = incidents(168), incidents(24)
    assert len(week) > len(day) > 10
    assert week[: len(day)] == day


# -- who is sent: distance from where a unit is now, pre-emption only from less urgent jobs ---------------


@pytest.fixture(scope="module")
def line5():
    """Nodes a..e (0..4) on a line, both ways, 5 minutes apart."""
    return network_from_edges(5, [0, 1, 2, 3, 1, 2, 3, 4], [1, 2, 3, 4, 0, 1, 2, 3], [300.0] * 8,
                              x_m=np.arange(5) * 1000.0)


LINE5_SITES = {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}


def line5_scenario(tmp_path, line5, units, preempt=None):
    data = base_scenario([site_at(line5, node, name) for name, node in LINE5_SITES.items()],
                         one_type() + one_type(type="riot", priority=1), units, hours=2, reps=1)
    data["dispatch"]["queue"] = "priority"
    if preempt is not None:
        data["dispatch"]["preempt"] = preempt
    return data


def test_a_driving_unit_is_timed_from_where_it_is_now_not_where_its_leg_began(tmp_path, line5):
    """The patrol car drives a -> e (20 min) from minute 0; at minute 12 it is 3 min from d, while
    its leg began 15 min from d. The posted car at b is 10 min from d. An incident at d at minute
    12: the patrol car, 3 min away now, is the nearest and must go."""
    units = [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "circuit", "route": ["a", "e"], "dwell_min": 0}},
             {"type": "car", "count": 1, "base": "b", "patrol": {"mode": "post", "at": "b"}}]
    data = line5_scenario(tmp_path, line5, units)
    rows, result = run(tmp_path, line5, data, [IncidentSpec(1, "d", 12.0, (stage("fight", 2, 10.0),))])
    sent = result.incidents[0].unit_ids
    assert sent == ["car-1"], (
        f"sent {sent}: the dispatcher timed the driving car from where its leg began (15 min from d) "
        "instead of from where it is now (3 min), and sent the posted car (10 min)")
    assert rows[1]["response_min"] == pytest.approx(3.0), "the driving car must reach d 3 min after the call"


PREEMPT_P1_FROM_P2 = {"for_priority": 1, "from_priority_at_least": 2, "when": "en_route"}


def run_preempting(tmp_path, network, data, specs):
    """``run``, where a pre-emption from an as-urgent job would make two incidents take one car
    from each other without end."""
    try:
        return run(tmp_path, network, data, specs)
    except RecursionError:
        pytest.fail("pre-emption took a car from a job as urgent as the new incident, which took it back, "
                    "without end: only less urgent jobs (priority >= from_priority_at_least) may lose a car")


def test_preemption_takes_a_unit_from_a_less_urgent_job_never_from_an_as_urgent_one(tmp_path, line5):
    """Car X posted at e, car Y at a. Minute 0: a riot (P1) at b, Y goes (5 min). Minute 0.5: a
    fight (P2) at d, X goes (5 min). Minute 1: a riot (P1) at c with no free car: Y (on a P1 job,
    9 min from c) is nearer than X (on a P2 job, 9.5 min), but only X may be taken."""
    units = [{"type": "car", "count": 1, "base": "e", "patrol": {"mode": "post", "at": "e"}},
             {"type": "slow_car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}}]
    data = line5_scenario(tmp_path, line5, units, PREEMPT_P1_FROM_P2)
    data["unit_types"]["slow_car"]["speed_factor"] = 1.0
    specs = [IncidentSpec(1, "b", 0.0, (stage("riot", 1, 30.0),)), IncidentSpec(2, "d", 0.5, (stage("fight", 2, 30.0),)),
             IncidentSpec(3, "c", 1.0, (stage("riot", 1, 30.0),))]
    rows, result = run_preempting(tmp_path, line5, data, specs)
    by_id = {incident.spec.incident_id: incident for incident in result.incidents}
    assert by_id[1].unit_ids == ["slow_car-1"] and rows[1]["preempted"] == 0, (
        "pre-emption took the car from a priority-1 job for another priority-1 incident")
    assert by_id[3].unit_ids == ["car-1"] and rows[2]["preempted"] == 1, (
        "the priority-1 riot with no free car must take the car on its way to the priority-2 fight")
    assert rows[3]["response_min"] == pytest.approx(9.5)


@pytest.mark.parametrize("job_priority, from_priority", [(1, 2), (2, 3)])
def test_preemption_never_takes_a_unit_from_a_job_more_urgent_than_from_priority(tmp_path, line5, job_priority,
                                                                                  from_priority):
    """One car, on its way to a job at c; a riot (P1) at b waits for it when the job's priority is
    below ``from_priority_at_least`` (as urgent as the riot, or more urgent than the bound)."""
    units = [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}}]
    preempt = PREEMPT_P1_FROM_P2 | {"from_priority_at_least": from_priority}
    data = line5_scenario(tmp_path, line5, units, preempt)
    specs = [IncidentSpec(1, "c", 0.0, (stage("riot" if job_priority == 1 else "fight", job_priority, 10.0),)),
             IncidentSpec(2, "b", 2.0, (stage("riot", 1, 10.0),))]
    rows, _ = run_preempting(tmp_path, line5, data, specs)
    assert (rows[1]["preempted"], rows[1]["response_min"]) == (0, 10.0), (
        f"pre-emption took the car from a priority-{job_priority} job though only jobs of priority "
        f"{from_priority} or less urgent may lose it")
    assert rows[2]["t_first_dispatch_min"] == 20.0, "the riot must wait until the car leaves the first job (20)"


# -- the dispatcher's invariant on the one path ---------------------------------------------------------


def test_no_waiting_incident_accepts_a_free_unit_on_duty(tmp_path):
    """The joint scenario's week (agencies, requires, joint patrols, pre-emption) with duty windows:
    after every dispatcher event, no queued incident accepts a free on-duty unit, and the count of
    available units is the count of free units on duty."""
    import sys
    import warnings

    from sim.config import load_scenario
    from sim.model.dispatch import Dispatcher
    from sim.network import load_network
    from tests.test_mutation_catches import ROOT

    raw = dict(load_scenario(ROOT / "scenarios" / "jember_pilkada_2024_joint.yaml").raw)
    raw["clock"] = {"start": "2024-10-23T00:00", "duration_hours": 72, "warmup_hours": 0}
    for plan in raw["plans"]:
        plan["units"] = [dict(group, on_duty=["06:00-22:00"]) if group.get("patrol", {}).get("mode") == "base"
                         else group for group in plan["units"]]
    for dist in raw["disturbances"]:
        dist["rate_per_hour"] = dist["rate_per_hour"] * 6  # a queue, often
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = load_scenario(raw, folder=ROOT / "scenarios")
    world = build_world(scenario, load_network(scenario.network))
    checks = []

    class Checking(Dispatcher):
        def check(self, when: str) -> None:
            free = [u for u in self.units if u.free and u.on_duty]
            assert self.n_available == len(free), f"after {when}: {self.n_available} counted available, {len(free)} are"
            for incident in self.queue:
                rule = self._rule(incident)
                takers = [u.unit_id for u in free if rule.accepts(incident, self._sent(incident), u)]
                assert not takers, f"after {when}: incident {incident.spec.incident_id} waits while {takers} are free for it"
            checks.append(len(self.queue))

        def new_incident(self, incident):
            super().new_incident(incident)
            self.check("a new incident")

        def left(self, unit, incident):
            super().left(unit, incident)
            self.check("a unit left a scene")

        def duty_changed(self, unit):
            super().duty_changed(unit)
            self.check("a change of duty")

        def _escalate(self, incident):
            super()._escalate(incident)
            self.check("an escalation")

    module = sys.modules["sim.model.simulate"]
    original, module.Dispatcher = module.Dispatcher, Checking
    try:
        for plan in ("joint-circuit", "joint-patrols-split", "joint-patrols-together"):
            simulate(scenario, world, plan, 0)
    finally:
        module.Dispatcher = original
    assert len(checks) > 500 and max(checks) >= 2  # the queue was used
