"""Regency scale: travel trees made on first need, the heap queue, the voting-day scenario.

The trees and the heap must not move a single bit of any result: each is checked here against
what it replaces (eager tables, a queue sorted at every release), run for real.
"""
from __future__ import annotations

import gc
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world, incident_rows, simulate, unit_rows
from sim.model.dispatch import Dispatcher
from sim.model.incidents import IncidentSpec, Stage
from sim.model.movement import Roads
from sim.model.simulate import CollectorPaused
from sim.network import NetworkSpec, load_network
from sim.network.routing import EdgeIndex, build_travel_tables
from sim.network.trees import TravelTimes, times_s_from
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import random_grid_network
from tests.sorted_queue import SortedQueueDispatcher

# The overloaded scenarios below are meant to overload: their load warning is no news here.
pytestmark = pytest.mark.filterwarnings("ignore:.*the queue grows all run long")

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
VOTING = ROOT / "scenarios" / "jember_voting_day_2024.yaml"


@pytest.fixture(scope="module")
def grid():
    return random_grid_network(30, 40, seed=7)  # one-way streets included


@pytest.fixture(scope="module")
def demo(cache):
    return load_network(NetworkSpec("demo"))


# -- trees on first need --------------------------------------------------------------------------


def test_trees_made_on_first_need_equal_the_eager_tables_to_the_bit(grid):
    dests = np.random.default_rng(3).choice(grid.n_nodes, 25, replace=False)
    eager = build_travel_tables(grid, dests)
    one_by_one = TravelTimes(grid, budget_bytes=2**30)
    batched = TravelTimes(grid, budget_bytes=2**30)
    batched.prepare(dests)
    assert batched.trees_built == 25
    for dest in dests:
        k = eager.row(dest)
        for times in (one_by_one, batched):
            time_s, next_node = times.tree(dest)
            assert np.array_equal(time_s, eager.time_s[k]) and np.array_equal(next_node, eager.next_node[k])
        for origin in (0, 17, grid.n_nodes - 1, int(dest)):
            nodes, cum_s = one_by_one.route(origin, dest)
            eager_nodes, eager_cum_s = eager.route(origin, dest)
            assert np.array_equal(nodes, eager_nodes) and np.array_equal(cum_s, eager_cum_s)
    assert batched.trees_built == 25  # the batch answered every later question


def test_the_tree_cache_keeps_to_its_budget_and_drops_the_least_recently_used(grid):
    tree_bytes = grid.n_nodes * 12
    times = TravelTimes(grid, budget_bytes=3 * tree_bytes)
    first = times.tree(0)[0].copy()
    for dest in range(1, 6):
        times.tree(dest)
        assert times.bytes_held <= 3 * tree_bytes
    assert (times.trees_built, times.trees_held, times.trees_evicted) == (6, 3, 3)  # 3, 4, 5 held
    times.tree(3)  # used: now 4 is the least recently used
    times.tree(0)  # made again, 4 dropped
    assert times.trees_built == 7 and np.array_equal(times.tree(0)[0], first)
    times.tree(3), times.tree(5)
    assert times.trees_built == 7
    times.tree(4)
    assert times.trees_built == 8


def test_a_budget_smaller_than_one_tree_still_holds_the_newest(grid):
    times = TravelTimes(grid, budget_bytes=1)
    assert times.time_s_to(5, 9) == times.time_s_to(5, 9) and times.trees_held == 1
    times.tree(6)
    assert times.trees_held == 1 and times.trees_evicted == 1


def test_pinned_tables_answer_for_their_destinations_without_trees(grid):
    eager = build_travel_tables(grid, [1, 2, 3])
    times = TravelTimes(grid, pinned=eager, budget_bytes=2**30)
    assert times.time_s_to(2, 100) == eager.time_s_to(2, 100) and times.trees_built == 0
    assert times.time_s_to(7, 100) == build_travel_tables(grid, [7]).time_s_to(7, 100)
    assert times.trees_built == 1
    with pytest.raises(ValueError, match="not in 0.."):
        times.tree(grid.n_nodes)


def test_forward_trees_give_the_reverse_trees_times_to_rounding(grid):
    origins = np.array([3, 3, 400, 1100])
    dests = [0, 250, 999]
    times = TravelTimes(grid, budget_bytes=2**30)
    reverse = np.column_stack([times.times_s_to(d, origins) for d in dests])
    np.testing.assert_allclose(times_s_from(grid, origins, dests), reverse, rtol=1e-12)


def test_edge_index_finds_edges_and_refuses_others(grid):
    edges = EdgeIndex.of(grid)
    tails, heads = grid.edge_tails[[0, 7, 500]], grid.indices[[0, 7, 500]]
    assert edges.ids(tails, heads).tolist() == [0, 7, 500]
    assert edges.ids(np.array([], int), np.array([], int)).size == 0
    with pytest.raises(KeyError):
        edges.ids(np.array([0]), np.array([grid.n_nodes - 1]))


def test_the_route_cache_keeps_to_its_bound(grid):
    roads = Roads(grid, TravelTimes(grid, budget_bytes=2**30), max_routes=3)
    routes = [roads.route(origin, 77) for origin in range(5)]
    assert len(roads._routes) == 3
    again = roads.route(0, 77)  # dropped, made again: the same route
    assert all(np.array_equal(a, b) for a, b in zip(again, routes[0]))


@pytest.mark.slow
def test_runs_on_trees_made_on_first_need_give_the_same_rows_as_eager_tables(demo):
    """The main job's plans on the demo network, the tree cache far too small for them (trees are
    dropped and made again all run long): every row as with the eager tables."""
    scenario = load_scenario(MAIN, {"clock.duration_hours": 48})
    eager = build_world(scenario, demo)
    lazy = build_world(scenario, demo, eager_max_bytes=0, tree_cache_bytes=25 * demo.n_nodes * 12)
    assert eager.tables.pinned is not None and lazy.tables.pinned is None
    for plan in scenario.plans:
        for rep in range(2):
            a, b = simulate(scenario, eager, plan.name, rep), simulate(scenario, lazy, plan.name, rep)
            assert incident_rows(a) == incident_rows(b) and unit_rows(a) == unit_rows(b), (plan.name, rep)
    assert lazy.tables.trees_evicted > 0 and eager.tables.trees_built == 0


# -- the queue --------------------------------------------------------------------------------------


def overloaded(tmp_path, grid, queue: str, after_service: str):
    """Four sites, three units, about three times the work they can do; half the types escalate into
    a more urgent type that needs more units, so waiting incidents change key and size."""
    nodes = [0, 333, 777, 1150]
    sites = [site_at(grid, n, f"s{i}") for i, n in enumerate(nodes)]
    types = [{"type": f"t{i}", "rate_per_hour": 6.0, "sites": "all", "priority": 3 - i % 3,
              "on_scene_min": {"dist": "exponential", "mean": 25}, "units_required": 1 + i % 2,
              **({"escalation": {"after_min": 15, "to": f"t{(i + 1) % 4}"}} if i % 2 == 0 else {})}
             for i in range(4)]
    units = [{"type": "car", "count": 2, "base": "s0", "patrol": {"mode": "post", "at": "s1"}},
             {"type": "slow_car", "count": 1, "base": "s2", "patrol": {"mode": "circuit", "route": ["s2", "s3"],
                                                                         "dwell_min": 5}}]
    data = base_scenario(sites, types, units, hours=8, reps=2)
    data["dispatch"] = {"policy": "nearest", "queue": queue, "after_service": after_service}
    return scenario_file(tmp_path, data)


@pytest.mark.parametrize("queue, after_service", [("priority", "resume"), ("fifo", "resume"),
                                                  ("priority", "return_to_base")])
def test_the_heap_serves_in_the_order_of_the_queue_sorted_at_every_release(tmp_path, grid, monkeypatch,
                                                                          queue, after_service):
    scenario = overloaded(tmp_path, grid, queue, after_service)
    world = build_world(scenario, grid, cache_dir=tmp_path)
    heap = [simulate(scenario, world, "plan", rep) for rep in range(2)]
    monkeypatch.setattr(sys.modules["sim.model.simulate"], "Dispatcher", SortedQueueDispatcher)
    for rep, ours in enumerate(heap):
        theirs = simulate(scenario, world, "plan", rep)
        assert incident_rows(ours) == incident_rows(theirs) and unit_rows(ours) == unit_rows(theirs)
        assert max(r["wait_min"] for r in incident_rows(ours)) > 60  # the queue was long
        assert any(r["escalated"] for r in incident_rows(ours))


def test_an_escalation_moves_a_waiting_incident_ahead(tmp_path, grid):
    """One unit, busy 30 min with incident 1. Incident 2 (priority 2) waits from minute 1, incident 3
    (priority 2) from minute 2 but escalates at minute 7 to priority 1: 3 is served first."""
    data = base_scenario([site_at(grid, 0, "a")], [{"type": "x", "rate_per_hour": 1, "sites": "all",
                                                     "on_scene_min": {"dist": "fixed", "value": 30}, "priority": 2}],
                         [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}}],
                         hours=4, reps=1)
    data["dispatch"]["queue"] = "priority"
    scenario = scenario_file(tmp_path, data)
    calm = (Stage("x", 2, 1, 30.0, None),)
    specs = [IncidentSpec(1, "a", 0.0, calm), IncidentSpec(2, "a", 1.0, calm),
             IncidentSpec(3, "a", 2.0, (Stage("x", 2, 1, 30.0, 5.0), Stage("y", 1, 1, 30.0, None)))]
    result = simulate(scenario, build_world(scenario, grid, cache_dir=tmp_path), "plan", 0, incident_specs=specs)
    rows = {r["incident_id"]: r for r in incident_rows(result)}
    assert (rows[3]["t_first_dispatch_min"], rows[2]["t_first_dispatch_min"]) == (30.0, 60.0)


def test_the_queue_lists_waiting_incidents_head_first(tmp_path, grid):
    scenario = overloaded(tmp_path, grid, "priority", "resume")
    world = build_world(scenario, grid, cache_dir=tmp_path)
    seen = []

    class Watching(Dispatcher):
        def left(self, unit, incident):
            queue = self.queue
            keys = [self.queue_key(i) for i in queue]
            seen.append(len(queue))
            assert keys == sorted(keys) and len(set(map(id, queue))) == len(queue)
            super().left(unit, incident)

    module = sys.modules["sim.model.simulate"]
    original, module.Dispatcher = module.Dispatcher, Watching
    try:
        simulate(scenario, world, "plan", 0)
    finally:
        module.Dispatcher = original
    assert max(seen) > 5


# -- throughput -------------------------------------------------------------------------------------


def test_a_run_pauses_the_cyclic_collector_and_leaves_it_as_it_found_it(tmp_path, grid, monkeypatch):
    scenario = overloaded(tmp_path, grid, "priority", "resume")
    world = build_world(scenario, grid, cache_dir=tmp_path)
    during = []

    class Watching(Dispatcher):
        def new_incident(self, incident):
            during.append(gc.isenabled())
            super().new_incident(incident)

    monkeypatch.setattr(sys.modules["sim.model.simulate"], "Dispatcher", Watching)
    assert gc.isenabled()
    simulate(scenario, world, "plan", 0)
    assert during and not any(during) and gc.isenabled()
    gc.disable()
    try:
        simulate(scenario, world, "plan", 0)
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


@pytest.mark.parametrize("interruption", [RuntimeError("a bug in the middle of a run"), KeyboardInterrupt()],
                         ids=["exception", "ctrl-c"])
def test_the_collector_is_on_again_however_a_run_ends(tmp_path, grid, monkeypatch, interruption):
    scenario = overloaded(tmp_path, grid, "priority", "resume")
    world = build_world(scenario, grid, cache_dir=tmp_path)
    seen = []

    class Failing(Dispatcher):
        def new_incident(self, incident):
            seen.append(gc.isenabled())
            raise interruption

    monkeypatch.setattr(sys.modules["sim.model.simulate"], "Dispatcher", Failing)
    with pytest.raises(type(interruption)):
        simulate(scenario, world, "plan", 0)
    assert seen == [False], "the collector was not paused during the run"
    assert gc.isenabled(), f"a run ended by {type(interruption).__name__} left Python's garbage collector off"


def test_the_collector_is_on_again_when_a_generator_holding_a_pause_is_closed_or_dropped():
    def replications():
        with CollectorPaused():
            yield 1
            yield 2

    running = replications()
    next(running)
    assert not gc.isenabled()
    running.close()
    assert gc.isenabled(), "closing a generator inside a pause left the garbage collector off"
    running = replications()
    next(running)
    del running  # dropped half-way: its finaliser closes it
    assert gc.isenabled(), "dropping a generator inside a pause left the garbage collector off"


def test_concurrent_runs_turn_the_collector_on_again_when_the_last_one_ends():
    entered, first_done = threading.Barrier(2), threading.Event()
    seen = {}

    def first():
        with CollectorPaused():
            entered.wait()
        first_done.set()

    def second():
        with CollectorPaused():
            entered.wait()
            first_done.wait()
            seen["after the first ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"after the first ended": False} and gc.isenabled()


# -- the voting day ---------------------------------------------------------------------------------


def test_the_voting_day_has_4041_synthetic_polling_stations_and_200_vehicles_per_plan():
    scenario = load_scenario(VOTING)
    tps = [s for s in scenario.sites if s.kind == "polling_station"]
    assert len(tps) == 4041 and len({s.id for s in tps}) == 4041
    assert all(s.approximate and "synthetic" in s.name and "synthetic" in s.note for s in tps)
    fleets = [Counter({g.type: 0 for g in plan.units}) for plan in scenario.plans]
    for fleet, plan in zip(fleets, scenario.plans):
        for group in plan.units:
            fleet[group.type] += group.count
    assert all(fleet == {"polri_car": 150, "tni_car": 40, "satpol_pp_car": 10} for fleet in fleets)
    assert {site for d in scenario.disturbances[:2] for site in d.site_weights} == {s.id for s in tps}


@pytest.mark.slow
def test_a_voting_day_replication_makes_trees_only_for_what_it_uses(demo):
    scenario = load_scenario(VOTING, {"clock.duration_hours": 8})
    world = build_world(scenario, demo)
    result = simulate(scenario, world, "tps-posts", 0)
    assert world.tables.pinned is None  # thousands of sites: no eager tables
    assert result.incidents and all(i.t_full_arrival_min is not None for i in result.incidents)
    posts_and_incidents = len({n for route in world.routes.values() for n in route.stops} |
                              {i.node for i in result.incidents} | {world.site_node[g.base] for g in
                                                                    scenario.plan("tps-posts").units})
    assert world.tables.trees_built <= posts_and_incidents < len(set(world.site_node.values())) / 5


def test_generated_sites_snap_however_far_while_real_sites_keep_max_snap_m(tmp_path, grid):
    """The grid covers a few km of the city; generated polling stations lie all over the regency."""
    data = base_scenario([site_at(grid, 0, "hq", "police_hq")],
                         [{"type": "x", "rate_per_hour": 1, "sites": {"kind": "polling_station"},
                           "on_scene_min": {"dist": "fixed", "value": 10}, "priority": 1}],
                         [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}], hours=1, reps=1)
    data["site_sets"] = [{"kind": "polling_station", "id_prefix": "tps", "count": 40, "generate": "by_population",
                          "seed": 3}]
    world = build_world(scenario_file(tmp_path, data), grid, cache_dir=tmp_path)
    assert max(world.site_snap_m.values()) > 10_000 and world.site_snap_m["hq"] == 0.0
    data["sites"].append({**site_at(grid, 0, "far"), "lat": -8.40})  # about 25 km south of the grid
    with pytest.raises(InputError, match="site far is"):
        build_world(scenario_file(tmp_path, data), grid, cache_dir=tmp_path)
