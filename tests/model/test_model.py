"""The SimPy model against queueing theory, travel tables and its own bookkeeping."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from tests.builders import base_scenario, digraph_from_network, scenario_file, site_at
from tests.graphs import network_from_edges, random_grid_network
from sim.model.records import incident_rows, unit_rows
from sim.model import build_world, simulate


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = lambda/mu."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


def ci99(values) -> tuple[float, float]:
    values = np.asarray(values, float)
    half = stats.t.ppf(0.995, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean() - half, values.mean() + half


@pytest.fixture(scope="module")
def line_network():
    """Two nodes 100 m apart, both ways: a site with zero travel for units posted at it."""
    return network_from_edges(2, [0, 1], [1, 0], [10.0, 10.0])


@pytest.mark.parametrize("servers, utilisation", [(2, 0.6), (3, 0.85)])
def test_posted_units_queue_like_erlang_c(tmp_path, line_network, servers, utilisation):
    mean_service_min = 30.0
    rate_per_hour = utilisation * servers / mean_service_min * 60.0
    data = base_scenario(
        sites=[site_at(line_network, 0, "square")],
        disturbances=[{"type": "fight", "rate_per_hour": rate_per_hour, "sites": "all",
                       "on_scene_min": {"dist": "exponential", "mean": mean_service_min},
                       "units_required": 1, "priority": 1}],
        units=[{"type": "car", "count": servers, "base": "square", "patrol": {"mode": "post", "at": "square"}}],
        hours=600, warmup=50, reps=20,
    )
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, line_network, cache_dir=tmp_path)
    mean_wait, share_waiting, units_busy = [], [], []
    for rep in range(scenario.replications):
        result = simulate(scenario, world, "plan", rep)
        rows = [r for r in incident_rows(result) if r["counted"]]
        waits = np.array([r["wait_min"] for r in rows])
        assert all(r["travel_min"] == 0.0 for r in rows)
        mean_wait.append(waits.mean())
        share_waiting.append((waits > 0).mean())
        units_busy.append(sum(r["busy_fraction"] for r in unit_rows(result)))

    load = utilisation * servers
    p_wait = erlang_c(servers, load)
    expected = {
        "mean wait": (mean_wait, p_wait * mean_service_min / (servers - load)),
        "share waiting": (share_waiting, p_wait),
        "units busy": (units_busy, load),
    }
    for name, (values, truth) in expected.items():
        low, high = ci99(values)
        assert low <= truth <= high, f"{name}: {truth:.4f} outside the 99% CI [{low:.4f}, {high:.4f}]"


@pytest.fixture(scope="module")
def grid():
    return random_grid_network(12, 12, seed=3)


def test_travel_time_from_base_is_the_tables_time_over_speed_factor(tmp_path, grid):
    rng = np.random.default_rng(1)
    nodes = rng.choice(grid.n_nodes, size=6, replace=False)
    sites = [site_at(grid, int(nodes[0]), "hq", "police_hq")] + [
        site_at(grid, int(n), f"s{i}") for i, n in enumerate(nodes[1:])
    ]
    data = base_scenario(
        sites=sites,
        disturbances=[{"type": "fight", "rate_per_hour": 0.3, "sites": {f"s{i}": 1 for i in range(5)},
                       "on_scene_min": {"dist": "fixed", "value": 2}, "units_required": 1, "priority": 1}],
        units=[{"type": "slow_car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}],
        hours=200, reps=1,
    )
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, grid, cache_dir=tmp_path)
    rows = incident_rows(simulate(scenario, world, "plan", 0))
    graph = digraph_from_network(grid)
    base = int(nodes[0])
    checked = 0
    for previous, row in zip(rows, rows[1:]):
        # Far apart in time: the unit is back at base (the grid is crossed in minutes).
        if row["t_created_min"] - previous["t_created_min"] < 60:
            continue
        site_node = world.site_node[row["site"]]
        expected_min = nx.shortest_path_length(graph, base, site_node, weight="travel_time") / 60 / 0.8
        assert row["travel_min"] == pytest.approx(expected_min, rel=1e-9)
        assert row["travel_min"] == pytest.approx(world.tables.time_s_to(site_node, base) / 60 / 0.8, rel=1e-12)
        checked += 1
    assert checked >= 20


def position_on_route(graph: nx.DiGraph, route: list[int], elapsed_s: float):
    """Edge (tail, head) and fraction of its time covered after ``elapsed_s`` along ``route``."""
    for tail, head in zip(route, route[1:]):
        edge_s = graph[tail][head]["travel_time"]
        if elapsed_s < edge_s:
            return tail, head, elapsed_s / edge_s
        elapsed_s -= edge_s
    return None


def test_unit_dispatched_mid_drive_leaves_from_where_it_is(tmp_path, grid):
    graph = digraph_from_network(grid)
    rng = np.random.default_rng(5)
    checked = 0
    for trial in range(24):
        hq, far, target = (int(n) for n in rng.choice(grid.n_nodes, size=3, replace=False))
        sites = [site_at(grid, hq, "hq", "police_hq"), site_at(grid, far, "far"), site_at(grid, target, "target")]
        data = base_scenario(
            sites=sites,
            disturbances=[{"type": "fight", "rate_per_hour": 40.0, "sites": {"target": 1},
                           "on_scene_min": {"dist": "fixed", "value": 5}, "units_required": 1, "priority": 1}],
            units=[{"type": "car", "count": 1, "base": "hq",
                    "patrol": {"mode": "circuit", "route": ["far", "hq"], "dwell_min": 0}}],
            hours=1, reps=1,
        )
        data["seed"] = trial
        scenario = scenario_file(tmp_path, data)
        world = build_world(scenario, grid, cache_dir=tmp_path)
        first = incident_rows(simulate(scenario, world, "plan", 0))[0]
        # Before its first call the unit drives hq -> far on the fastest route.
        route = nx.shortest_path(graph, hq, far, weight="travel_time")
        where = position_on_route(graph, route, first["t_created_min"] * 60)
        if where is None:
            continue
        tail, head, fraction = where
        to_target = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), target, weight="travel_time")
        via_next_s = (1 - fraction) * graph[tail][head]["travel_time"] + to_target[head]
        best_s = via_next_s
        if graph.has_edge(head, tail):  # a two-way street: turning around is allowed
            best_s = min(best_s, fraction * graph[head][tail]["travel_time"] + to_target[tail])
        travel_s = first["travel_min"] * 60
        assert best_s - 1e-6 <= travel_s <= via_next_s + 1e-6
        assert travel_s == pytest.approx(best_s, rel=1e-9)
        checked += 1
    assert checked >= 6


@pytest.fixture(scope="module")
def busy_run(tmp_path_factory, grid):
    """A loaded city: several patrol modes, multi-unit incidents, escalation, a warm-up."""
    tmp_path = tmp_path_factory.mktemp("busy")
    rng = np.random.default_rng(11)
    nodes = [int(n) for n in rng.choice(grid.n_nodes, size=6, replace=False)]
    sites = [site_at(grid, nodes[0], "hq", "police_hq")] + [site_at(grid, n, f"s{i}") for i, n in enumerate(nodes[1:])]
    data = base_scenario(
        sites=sites,
        disturbances=[
            {"type": "provocation", "rate_per_hour": 1.5, "sites": "all",
             "on_scene_min": {"dist": "lognormal", "mean": 40, "sd": 20}, "units_required": 1, "priority": 2,
             "escalation": {"after_min": 4, "to": "unrest"}},
            {"type": "unrest", "rate_per_hour": 0.3, "sites": {"s1": 1, "s2": 2},
             "on_scene_min": {"dist": "uniform", "low": 30, "high": 90}, "units_required": 3, "priority": 1},
        ],
        units=[
            {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "post", "at": "s0"}},
            {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "circuit", "route": ["s1", "s2", "s3"], "dwell_min": 3}},
            {"type": "slow_car", "count": 1, "base": "hq", "patrol": {"mode": "random", "dwell_min": 2}},
            {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "random", "road_nodes": 20, "radius_km": 0.6, "dwell_min": 1}},
            {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}},
        ],
        hours=48, warmup=4, reps=2,
    )
    data["dispatch"]["queue"] = "priority"
    data["plans"].append({"name": "plan-copy", "units": data["plans"][0]["units"]})
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, grid, cache_dir=tmp_path)
    return scenario, world, {(plan, rep): simulate(scenario, world, plan, rep)
                             for plan in ("plan", "plan-copy") for rep in range(2)}


def test_every_incident_is_answered_and_response_is_wait_plus_travel(busy_run):
    scenario, _, results = busy_run
    rows = incident_rows(results[("plan", 0)])
    assert any(r["escalated"] for r in rows) and any(r["wait_min"] > 0 for r in rows)
    assert not all(r["counted"] for r in rows)  # created in warm-up: simulated, not counted
    for r in rows:
        # Incidents are followed past the clock's end until all their units are on scene.
        assert r["full_response_min"] is not None and r["full_response_min"] >= r["response_min"]
        assert r["units_sent"] >= r["units_required"]
        assert r["response_min"] == pytest.approx(r["wait_min"] + r["travel_min"], abs=1e-9)
        assert r["wait_min"] >= 0 and r["travel_min"] >= 0
        assert r["counted"] == int(r["t_created_min"] >= scenario.clock.warmup_hours * 60)


def test_a_unit_serves_one_incident_at_a_time(busy_run):
    _, _, results = busy_run
    result = results[("plan", 1)]
    served = 0
    for unit in result.units:
        jobs = unit.stats.jobs
        served += len(jobs)
        for job in jobs:
            assert job.t_dispatch_min <= job.t_arrival_min <= job.t_leave_min
        for before, after in zip(jobs, jobs[1:]):
            assert before.t_leave_min <= after.t_dispatch_min
    finished = sum(i.units_left for i in result.incidents)
    assert served == finished > 0


def test_plans_see_the_same_incidents_and_identical_plans_give_identical_results(busy_run):
    _, _, results = busy_run
    for rep in range(2):
        a, b = incident_rows(results[("plan", rep)]), incident_rows(results[("plan-copy", rep)])
        assert [(r["incident_id"], r["type"], r["site"], r["t_created_min"]) for r in a] == [
            (r["incident_id"], r["type"], r["site"], r["t_created_min"]) for r in b
        ]
        strip = lambda rows: [{k: v for k, v in r.items() if k != "plan"} for r in rows]  # noqa: E731
        assert strip(a) == strip(b)
    assert incident_rows(results[("plan", 0)]) != incident_rows(results[("plan", 1)])


def test_same_seed_gives_the_same_numbers(busy_run):
    scenario, world, results = busy_run
    again = simulate(scenario, world, "plan", 1)
    assert incident_rows(again) == incident_rows(results[("plan", 1)])
    assert unit_rows(again) == unit_rows(results[("plan", 1)])


def test_a_circuit_over_sites_on_one_road_node_stands_there_instead_of_spinning(tmp_path, grid):
    import signal

    node = 5
    sites = [site_at(grid, node, "a"), site_at(grid, node, "b"), site_at(grid, 40, "hq", "police_hq")]
    data = base_scenario(
        sites=sites,
        disturbances=[{"type": "fight", "rate_per_hour": 0.5, "sites": {"a": 1},
                       "on_scene_min": {"dist": "fixed", "value": 5}, "units_required": 1, "priority": 1}],
        units=[{"type": "car", "count": 1, "base": "hq",
                "patrol": {"mode": "circuit", "route": ["a", "b"], "dwell_min": 0}}],
        hours=24, reps=1,
    )
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, grid, cache_dir=tmp_path)

    def give_up(*_):
        raise TimeoutError("the simulation clock stopped advancing")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(20)
    try:
        rows = incident_rows(simulate(scenario, world, "plan", 0))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    # After the first drive out, the unit stands at the sites' node: later calls need no travel.
    assert rows and all(r["travel_min"] == 0 for r in rows[1:] if r["wait_min"] == 0)


def test_a_leg_never_ends_before_it_starts():
    """A unit sent off a hair before the end of its street: late in a week-long run the clock's
    rounding must not put the end of its leg before now (SimPy refuses a negative delay)."""
    from sim.model.movement import Leg

    rng = np.random.default_rng(0)
    for _ in range(20_000):
        edge_min = rng.uniform(0.01, 2.0)
        leg = Leg(t_start_min=rng.uniform(1000.0, 10080.0), nodes=np.array([0, 1]),
                  cum_min=np.array([0.0, edge_min]), cum_m=np.array([0.0, 100.0]),
                  elapsed0_min=edge_min)  # a fraction that rounded to the whole edge
        assert leg.t_end_min >= leg.t_start_min
