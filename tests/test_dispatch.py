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
