"""Agencies, joint patrols, pre-emption and the coverage dispatch policy (issue #12), on hand-built
road networks with known answers, and Cobham's priority-queue waits through the general dispatcher."""
from __future__ import annotations

import numpy as np
import pytest

from sim.analytic.erlang import erlang_c
from sim.errors import InputError
from sim.model import build_world, simulate
from sim.model.incidents import IncidentSpec, Stage
from sim.model.records import incident_rows, unit_columns, unit_rows
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import network_from_edges
from tests.model.test_model import ci99

UNIT_TYPES = {"polri_car": {"agency": "Polri"}, "tni_car": {"agency": "TNI"},
              "satpol_pp_car": {"agency": "Satpol PP"}, "dishub_car": {"agency": "Dishub"}}


def line_network(minutes: list[float]):
    """Nodes 0..n on a line, both ways; edge i -> i+1 takes ``minutes[i]``."""
    n = len(minutes) + 1
    tails = [i for i in range(n - 1)] + [i + 1 for i in range(n - 1)]
    heads = [i + 1 for i in range(n - 1)] + [i for i in range(n - 1)]
    seconds = [m * 60.0 for m in minutes] * 2
    return network_from_edges(n, tails, heads, seconds, x_m=np.arange(n) * 1000.0)


def fight(**extra) -> dict:
    return {"type": "fight", "rate_per_hour": 1.0, "sites": "all", "priority": 2,
            "on_scene_min": {"dist": "fixed", "value": 10}, **extra}


def posted(unit_type: str, site: str, count: int = 1) -> dict:
    return {"type": unit_type, "count": count, "base": site, "patrol": {"mode": "post", "at": site}}


def scenario(tmp_path, network, sites, disturbances, units, **extra):
    data = base_scenario([site_at(network, node, name) for name, node in sites.items()], disturbances, units,
                         hours=4, reps=1)
    data["unit_types"] = UNIT_TYPES
    data["dispatch"].update(extra.pop("dispatch", {}))
    data.update(extra)
    return scenario_file(tmp_path, data)


def run(tmp_path, network, scen, specs):
    world = build_world(scen, network, cache_dir=tmp_path)
    result = simulate(scen, world, "plan", 0, trace=True, incident_specs=specs)
    return {row["incident_id"]: row for row in incident_rows(result)}, result


def stage(type_: str = "fight", priority: int = 2, on_scene_min: float = 10.0, units: int = 1) -> Stage:
    return Stage(type_, priority, units, on_scene_min, None)


def by_id(result):
    return {unit.unit_id: unit for unit in result.units}


# -- agencies --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def star():
    """Site at node 1; a TNI post 2 min away (node 0), Polri posts 10 and 12 min away (nodes 2, 3)."""
    return network_from_edges(4, [0, 1, 1, 2, 1, 3], [1, 0, 2, 1, 3, 1], [120.0, 120.0, 600.0, 600.0, 720.0, 720.0],
                              x_m=np.array([0.0, 1000.0, 2000.0, 3000.0]))


SITES = {"tni_post": 0, "square": 1, "polri_post": 2, "polri_post_2": 3}


@pytest.mark.parametrize("agencies, response, who", [(None, 2.0, "tni_car-1"), (["Polri"], 10.0, "polri_car-1")])
def test_the_nearest_unit_that_may_answer_goes(tmp_path, star, agencies, response, who):
    extra = {} if agencies is None else {"agencies": agencies}
    scen = scenario(tmp_path, star, SITES, [fight(**extra)], [posted("tni_car", "tni_post"), posted("polri_car", "polri_post")])
    rows, result = run(tmp_path, star, scen, [IncidentSpec(1, "square", 0.0, (stage(),))])
    assert rows[1]["response_min"] == pytest.approx(response, abs=1e-9)
    assert result.incidents[0].unit_ids == [who]


def test_requires_sends_each_agencys_minimum_then_the_nearest_others(tmp_path, star):
    """3 units, at least 2 Polri: the two Polri cars (10 and 12 min) and the nearer TNI car (2 min)."""
    scen = scenario(tmp_path, star, SITES, [fight(units_required=3, requires={"Polri": 2})],
                    [posted("tni_car", "tni_post", 2), posted("polri_car", "polri_post"),
                     posted("polri_car", "polri_post_2")])
    rows, result = run(tmp_path, star, scen, [IncidentSpec(1, "square", 0.0, (stage(units=3),))])
    assert sorted(result.incidents[0].unit_ids) == ["polri_car-1", "polri_car-2", "tni_car-1"]
    assert rows[1]["response_min"] == pytest.approx(2.0)
    assert rows[1]["full_response_min"] == pytest.approx(12.0)


def test_a_requirement_that_must_wait_keeps_its_slot(tmp_path, star):
    """2 units, 1 Polri; the Polri car is busy: the TNI car goes, the second slot waits for Polri."""
    scen = scenario(tmp_path, star, SITES, [fight(units_required=2, requires={"Polri": 1})],
                    [posted("tni_car", "tni_post", 2), posted("polri_car", "polri_post")])
    rows, result = run(tmp_path, star, scen, [IncidentSpec(1, "polri_post", 0.0, (stage(on_scene_min=30.0),)),
                                              IncidentSpec(2, "square", 1.0, (stage(units=2),))])
    assert result.incidents[1].unit_ids == ["tni_car-1", "polri_car-1"]  # not the second TNI car
    assert rows[2]["t_first_arrival_min"] == pytest.approx(3.0)
    assert rows[2]["full_response_min"] == pytest.approx(30.0 + 10.0 - 1.0)  # freed at 30, 10 min away


@pytest.mark.parametrize("dist, message", [
    (fight(agencies=["Polri"]), "plan 'plan' cannot answer disturbance type 'fight': it has no unit of Polri"),
    (fight(units_required=2, requires={"Polri": 2}),
     "plan 'plan' cannot answer disturbance type 'fight': it requires 2 Polri units and the plan has 1"),
    (fight(agencies=["Polisi"]), "agencies[0]: no unit type has agency 'Polisi'; did you mean 'Polri'?"),
    (fight(requires={"Polri": 2}), "requires 2 units in all but units_required is 1"),
])
def test_a_type_the_plan_cannot_answer_is_refused_at_validation(tmp_path, star, dist, message):
    units = [posted("tni_car", "tni_post")] + ([posted("polri_car", "polri_post")] if "requires" in dist else [])
    with pytest.raises(InputError) as error:
        scenario(tmp_path, star, SITES, [dist], units)
    assert message in str(error.value)


# -- joint patrols ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def line5():
    return line_network([5.0, 5.0, 5.0, 5.0])


def joint_group(on_dispatch: str, patrol: dict) -> dict:
    return {"joint": ["polri_car", "tni_car", "satpol_pp_car", "dishub_car"], "count": 1, "base": "a",
            "patrol": patrol, "on_dispatch": on_dispatch}


@pytest.mark.parametrize("on_dispatch, goes", [
    ("split", ["polri_car-1"]),
    ("together", ["polri_car-1", "tni_car-1", "satpol_pp_car-1", "dishub_car-1"]),
])
def test_a_joint_patrol_sends_what_is_needed_or_goes_together(tmp_path, line5, on_dispatch, goes):
    """A joint patrol posted at a; a Polri-only incident at c (10 min): split sends the Polri car and
    the three others stay on post; together sends all four. units.csv: one row per vehicle."""
    scen = scenario(tmp_path, line5, {"a": 0, "c": 2}, [fight(agencies=["Polri"])],
                    [joint_group(on_dispatch, {"mode": "post", "at": "a"})])
    rows, result = run(tmp_path, line5, scen, [IncidentSpec(1, "c", 0.0, (stage(),))])
    assert result.incidents[0].unit_ids == goes
    assert rows[1]["response_min"] == pytest.approx(10.0)
    units = unit_rows(result)
    assert unit_columns(units)[-1] == "joint_patrol"
    assert [(u["unit_id"], u["agency"], u["joint_patrol"]) for u in units] == [
        ("polri_car-1", "Polri", "joint-1"), ("tni_car-1", "TNI", "joint-1"),
        ("satpol_pp_car-1", "Satpol PP", "joint-1"), ("dishub_car-1", "Dishub", "joint-1")]
    served = {u["unit_id"]: u["incidents_served"] for u in units}
    assert served == {unit: int(unit in goes) for unit in served}


def test_the_rest_of_a_split_patrol_continues_its_circuit_and_the_vehicle_rejoins(tmp_path, line5):
    """Circuit a (node 0) <-> e (node 4), 20 min each way, dwell 5, from a at 0. At minute 3, while
    it dwells at a, a Polri-only incident at c (node 2, 10 min): the Polri car (the leader) goes,
    on scene 13 to 25. The TNI car takes the patrol on at once (to e, 3 -> 23; dwell; back to a
    28 -> 48), the two others with it. The Polri car drives to the patrol's next stop, e (where it
    dwells at 25), arrives at 35 after the patrol left, waits there until the patrol is back (73)
    and rides with it again from the next leg (78 -> 98)."""
    scen = scenario(tmp_path, line5, {"a": 0, "c": 2, "e": 4}, [fight(agencies=["Polri"])],
                    [joint_group("split", {"mode": "circuit", "route": ["a", "e"], "dwell_min": 5})])
    rows, result = run(tmp_path, line5, scen, [IncidentSpec(1, "c", 3.0, (stage(on_scene_min=12.0),))])
    units = by_id(result)

    def legs(unit_id: str) -> list[tuple]:
        return [(round(t.leg.t_start_min, 6), round(t.t_end_min, 6), int(t.leg.nodes[-1]), t.state)
                for t in units[unit_id].trace]

    assert rows[1]["response_min"] == pytest.approx(10.0)
    for rider in ("tni_car-1", "satpol_pp_car-1", "dishub_car-1"):
        assert legs(rider)[:2] == [(3.0, 23.0, 4, "patrolling"), (28.0, 48.0, 0, "patrolling")]
        assert units[rider].stats.incidents_served == 0
    assert tuple(units["polri_car-1"].stats.jobs[0]) == (1, 3.0, 13.0, 25.0)
    assert legs("polri_car-1")[:3] == [(3.0, 13.0, 2, "to_incident"), (25.0, 35.0, 4, "returning"),
                                       (78.0, 98.0, 0, "patrolling")]
    assert result.joint_patrols[0].leader is units["tni_car-1"]


def test_a_joint_patrol_goes_off_duty_together_and_comes_back_at_its_base(tmp_path, line5):
    """On duty 00:00-01:00 daily: a Polri-only incident at c (10 min from base a) at minute 90 waits
    for the crews of the next day (1440), then the Polri car goes from the base: on scene at 1450."""
    group = joint_group("split", {"mode": "circuit", "route": ["a", "e"], "dwell_min": 5}) | {"on_duty": ["00:00-01:00"]}
    scen = scenario(tmp_path, line5, {"a": 0, "c": 2, "e": 4}, [fight(agencies=["Polri"])], [group])
    rows, result = run(tmp_path, line5, scen, [IncidentSpec(1, "c", 90.0, (stage(),))])
    assert (rows[1]["t_first_dispatch_min"], rows[1]["t_first_arrival_min"]) == (1440.0, pytest.approx(1450.0))
    units = by_id(result)
    assert result.incidents[0].unit_ids == ["polri_car-1"]
    assert result.joint_patrols[0].leader is units["tni_car-1"]  # took the patrol on at 1440
    assert [u["on_duty_h"] for u in unit_rows(result)] == [1.0] * 4


# -- pre-emption ------------------------------------------------------------------------------------

PREEMPT = {"for_priority": 1, "from_priority_at_least": 3}


def one_car(tmp_path, network, when: str | None):
    dispatch = {"queue": "priority"} | ({} if when is None else {"preempt": PREEMPT | {"when": when}})
    return scenario(tmp_path, network, {"a": 0, "b": 1, "c": 2}, [fight(priority=3), fight(type="riot", priority=1)],
                    [{"type": "polri_car", "count": 1, "base": "a", "patrol": {"mode": "base"}}], dispatch=dispatch)


def test_a_priority_1_incident_takes_a_unit_en_route_to_a_priority_3_one(tmp_path, line5):
    """One car at a (node 0); a-b-c 5 min apart. 0: a fight (P3) at c, the car drives a -> b -> c.
    4: a riot (P1) at b, no free unit: the car, 4/5 of the way to b, turns to b (1 min, at 5),
    serves it 10 min (to 15), then takes the fight from the queue again: b -> c 5 min, on scene
    at 20, 10 min (to 30). The fight keeps its creation time 0 and counts one pre-emption."""
    specs = [IncidentSpec(1, "c", 0.0, (stage("fight", 3),)), IncidentSpec(2, "b", 4.0, (stage("riot", 1),))]
    rows, result = run(tmp_path, line5, one_car(tmp_path, line5, "en_route"), specs)
    fight_, riot = rows[1], rows[2]
    assert (fight_["t_first_dispatch_min"], fight_["t_first_arrival_min"], fight_["response_min"]) == (0.0, 20.0, 20.0)
    assert (fight_["preempted"], fight_["units_sent"], fight_["wait_min"]) == (1, 1, 0.0)
    assert (riot["t_first_dispatch_min"], riot["response_min"], riot["preempted"]) == (4.0, pytest.approx(1.0), 0)
    car = result.units[0]
    assert [tuple(job) for job in car.stats.jobs] == [(2, 4.0, pytest.approx(5.0), pytest.approx(15.0)),
                                                      (1, pytest.approx(15.0), pytest.approx(20.0), pytest.approx(30.0))]
    states = [(round(t.leg.t_start_min, 6), round(t.t_end_min, 6), t.state) for t in car.trace]
    assert states[:3] == [(0.0, 4.0, "to_incident"), (4.0, 5.0, "to_incident"), (15.0, 20.0, "to_incident")]
    assert car.stats.busy_min == pytest.approx(30.0)  # busy from 0 to 30 without a break


def test_with_when_any_a_unit_on_scene_is_taken_and_comes_back(tmp_path, line5):
    """0: a fight at b (5 min), on scene 5 to 15 planned. 10: a riot at c: with when: any the car
    leaves b at 10, at c at 15, to 25; then back to the fight: at b at 30, a full 10 min (to 40).
    With en_route the riot waits until the car is free at 15 (at c at 20)."""
    specs = [IncidentSpec(1, "b", 0.0, (stage("fight", 3),)), IncidentSpec(2, "c", 10.0, (stage("riot", 1),))]
    rows, result = run(tmp_path, line5, one_car(tmp_path, line5, "any"), specs)
    assert (rows[1]["response_min"], rows[1]["preempted"], rows[2]["response_min"]) == (5.0, 1, 5.0)
    assert [tuple(job) for job in result.units[0].stats.jobs] == [
        (1, 0.0, 5.0, 10.0), (2, 10.0, 15.0, 25.0), (1, 25.0, 30.0, 40.0)]
    rows, result = run(tmp_path, line5, one_car(tmp_path, line5, "en_route"), specs)
    assert (rows[1]["preempted"], rows[2]["response_min"]) == (0, 10.0)


def test_without_the_preempt_block_there_is_no_preempted_column(tmp_path, line5):
    specs = [IncidentSpec(1, "c", 0.0, (stage("fight", 3),)), IncidentSpec(2, "b", 4.0, (stage("riot", 1),))]
    rows, _ = run(tmp_path, line5, one_car(tmp_path, line5, None), specs)
    assert "preempted" not in rows[1]
    assert rows[2]["t_first_dispatch_min"] == 20.0  # waits until the car is free


# -- Cobham: priority-queue waits through the general dispatcher -------------------------------------

def test_priority_queue_waits_match_cobham_through_the_general_dispatcher(tmp_path):
    """M/M/2, two priority classes (non-pre-emptive), units posted at the site (no travel); the
    ``agencies`` key puts the dispatcher on its general path. Cobham: the class-k mean wait is
    W_k = C(c, a) / (c mu) / ((1 - s_(k-1)) (1 - s_k)), s_k the load of classes 1..k per server."""
    network = network_from_edges(2, [0, 1], [1, 0], [10.0, 10.0])
    servers, mean_min = 2, 30.0
    rates = {1: 0.4 * servers / mean_min * 60.0, 2: 0.35 * servers / mean_min * 60.0}  # per hour
    disturbances = [{"type": f"p{k}", "rate_per_hour": rate, "sites": "all", "priority": k, "agencies": ["Polri"],
                     "on_scene_min": {"dist": "exponential", "mean": mean_min}} for k, rate in rates.items()]
    data = base_scenario([site_at(network, 0, "square")], disturbances,
                         [posted("polri_car", "square", servers)], hours=400, warmup=40, reps=16)
    data["unit_types"], data["dispatch"]["queue"] = UNIT_TYPES, "priority"
    scen = scenario_file(tmp_path, data)
    world = build_world(scen, network, cache_dir=tmp_path)
    waits = {1: [], 2: []}
    for rep in range(scen.replications):
        rows = [r for r in incident_rows(simulate(scen, world, "plan", rep)) if r["counted"]]
        for k in waits:
            waits[k].append(np.mean([r["wait_min"] for r in rows if r["priority"] == k]))
    mu = 1.0 / mean_min
    load = sum(rates.values()) / 60.0 / mu
    share = {1: rates[1] / 60.0 / (servers * mu), 2: sum(rates.values()) / 60.0 / (servers * mu)}
    w0 = erlang_c(servers, load) / (servers * mu)
    for k, values in waits.items():
        truth = w0 / ((1.0 - share.get(k - 1, 0.0)) * (1.0 - share[k]))
        low, high = ci99(values)
        assert low <= truth <= high, f"class {k}: {truth:.3f} outside the 99% CI [{low:.3f}, {high:.3f}]"


# -- the coverage policy ----------------------------------------------------------------------------

@pytest.mark.parametrize("policy, slack, who, response", [
    ("nearest", None, "near", 1.0),
    ("coverage", 2.0, "far", 1.5),   # the far car's absence uncovers less demand
    ("coverage", 0.4, "near", 1.0),  # the far car is not within the slack of the nearest
])
def test_the_coverage_policy_sends_the_unit_whose_absence_costs_least(tmp_path, policy, slack, who, response):
    """Line x - n - s - f - y, 1 min per edge but s-f 1.5 min; target 1.2 min. Cars at n ("near",
    1 min from the square s) and f ("far", 1.5 min). Demand: x 5/h (only the near car reaches it),
    y 1/h (only the far car), s 1/h (only the near car). Sending near loses 6/h, far 1/h."""
    network = line_network([1.0, 1.0, 1.5, 1.0])
    sites = {"x": 0, "n": 1, "square": 2, "f": 3, "y": 4}
    disturbances = [fight(sites={"square": 1.0}), fight(type="crowd", rate_per_hour=6.0, sites={"x": 5.0, "y": 1.0})]
    dispatch = {"policy": policy} | ({} if slack is None else {"coverage_slack_min": slack})
    scen = scenario(tmp_path, network, sites, disturbances,
                    [posted("polri_car", "n"), posted("tni_car", "f")], dispatch=dispatch, target_response_min=1.2)
    rows, result = run(tmp_path, network, scen, [IncidentSpec(1, "square", 0.0, (stage(),))])
    assert result.incidents[0].unit_ids == [{"near": "polri_car-1", "far": "tni_car-1"}[who]]
    assert rows[1]["response_min"] == pytest.approx(response)


def test_coverage_slack_is_bounded_and_only_for_the_coverage_policy(tmp_path, star):
    units = [posted("polri_car", "polri_post")]
    with pytest.raises(InputError, match="coverage_slack_min' only applies with policy: coverage"):
        scenario(tmp_path, star, SITES, [fight()], units, dispatch={"coverage_slack_min": 3})
    with pytest.raises(InputError, match="coverage_slack_min"):
        scenario(tmp_path, star, SITES, [fight()], units, dispatch={"policy": "coverage", "coverage_slack_min": 61})
    with pytest.raises(InputError, match="from_priority_at_least"):
        scenario(tmp_path, star, SITES, [fight()], units,
                 dispatch={"preempt": {"for_priority": 2, "from_priority_at_least": 2}})
