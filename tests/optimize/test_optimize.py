"""The optimiser: the integer programs against brute force, the p-median's exact reductions, the
demand, candidates and placement rules, refinement by simulation, and the command end to end on
the default scenario (files, the plan loading back, bad input)."""
from __future__ import annotations

import copy
import itertools
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.optimize.metrics import Instance, covered_share, covering_units, expected_covered_share, mean_travel_min
from sim.optimize.objectives import objective
from sim.optimize.pmedian import assignment_cost, fix_candidates, lagrangian_bound, milp_stage
from tests.commands import in_process

ROOT = Path(__file__).resolve().parents[2]


def objective_value(instance: Instance, counts, name: str, busy: float) -> float:
    return objective(name).value(instance, np.asarray(counts), busy)


def greedy(instance: Instance, units: int, name: str, busy: float = 0.0) -> np.ndarray:
    return objective(name).greedy(instance, units, busy)


def solve(instance: Instance, units: int, name: str, busy: float = 0.0, **kwargs):
    return objective(name).solve(instance, units, busy, **kwargs)

DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
N_RANDOM = 60


# -- the programs against brute force ---------------------------------------------------------------


def _random_instance(rng: np.random.Generator) -> tuple[Instance, int, float]:
    """A small instance: random cover sets (a set-cover shape, where greedy choices can trap),
    travel minutes under the target where covered and over it elsewhere, integer weights."""
    n_dem, n_cand = int(rng.integers(6, 13)), int(rng.integers(5, 9))
    units = int(rng.integers(2, min(4, n_cand) + 1))
    target = 10.0
    cover = rng.uniform(size=(n_dem, n_cand)) < rng.uniform(0.2, 0.45)
    travel = np.where(cover, rng.uniform(0, target, cover.shape), rng.uniform(target + 0.5, 3 * target, cover.shape))
    return Instance(rng.integers(1, 10, n_dem).astype(float), travel, target), units, float(rng.uniform(0.1, 0.6))


def _trap(objective: str) -> tuple[Instance, int, float]:
    """A hand-made instance where the greedy placement is not optimal (see each comment)."""
    if objective in ("mclp", "mexclp"):
        # Demand a, b, c, d of weight 4, 4, 3, 3; X covers {a, b}, P {a, c}, Q {b, d}. Greedy takes X
        # (8) and then P or Q (11 for MCLP); P + Q cover all 14. MEXCLP (busy 0.5): greedy X then P
        # gives 6.5, P + Q give 7 (worked out in test_mexclp_values_by_hand's style).
        cover = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]], bool)
        return Instance(np.array([4.0, 4.0, 3.0, 3.0]), np.where(cover, 5.0, 20.0), 10.0), 2, 0.5
    # p-median on a line: demand at 0, 1, 9, 10; candidates at 0.5, 5, 9.5. Greedy takes 5 first
    # (18 against 19), then one end (10); the two ends cost 2.
    demand, posts = np.array([0.0, 1.0, 9.0, 10.0]), np.array([0.5, 5.0, 9.5])
    return Instance(np.ones(4), np.abs(demand[:, None] - posts[None, :]), 3.0), 2, 0.0


def _brute_force(instance: Instance, units: int, objective: str, busy: float) -> float:
    n_cand = instance.n_candidates
    choose = itertools.combinations_with_replacement if objective == "mexclp" else itertools.combinations
    values = [objective_value(instance, np.bincount(combo, minlength=n_cand), objective, busy)
              for combo in choose(range(n_cand), units)]
    return min(values) if objective == "pmedian" else max(values)


@pytest.mark.parametrize("objective", ["mclp", "mexclp", "pmedian"])
def test_integer_programs_equal_brute_force(objective):
    rng = np.random.default_rng({"mclp": 1, "mexclp": 2, "pmedian": 3}[objective])
    cases = [_trap(objective)] + [_random_instance(rng) for _ in range(N_RANDOM)]
    greedy_short = 0
    for instance, units, busy in cases:
        best = _brute_force(instance, units, objective, busy)
        solution = solve(instance, units, objective, busy)
        assert solution.optimal and solution.gap <= 1e-6
        assert int(solution.counts.sum()) == units
        assert solution.value == pytest.approx(best, rel=1e-9, abs=1e-12)
        assert solution.value == pytest.approx(objective_value(instance, solution.counts, objective, busy), rel=1e-12)
        if objective != "mexclp":
            assert solution.counts.max() == 1  # one unit per post: a second adds nothing here
        found = objective_value(instance, greedy(instance, units, objective, busy), objective, busy)
        greedy_short += not math.isclose(found, best, rel_tol=1e-9)
    trap = _trap(objective)
    trap_greedy = objective_value(trap[0], greedy(*trap[:2], objective, trap[2]), objective, trap[2])
    assert not math.isclose(trap_greedy, _brute_force(trap[0], trap[1], objective, trap[2]))
    assert greedy_short >= 2  # the trap and at least one random instance


def test_mexclp_values_by_hand():
    # Two sites of weight 1 and 3; post A covers the first only, B both; busy 0.5; two units.
    instance = Instance(np.array([1.0, 3.0]), np.array([[5.0, 5.0], [20.0, 5.0]]), 10.0)
    both_at_b, one_each, both_at_a = np.array([0, 2]), np.array([1, 1]), np.array([2, 0])
    # A site covered by n units: 1 - 0.5**n. Both at B: (1 * 0.75 + 3 * 0.75) / 4.
    assert expected_covered_share(instance, both_at_b, 0.5) == pytest.approx(0.75)
    # One at each: site 1 by both (0.75), site 2 by B only (0.5): (0.75 + 1.5) / 4.
    assert expected_covered_share(instance, one_each, 0.5) == pytest.approx(0.5625)
    assert expected_covered_share(instance, both_at_a, 0.5) == pytest.approx(0.1875)  # 0.75 / 4
    solution = solve(instance, 2, "mexclp", 0.5)
    assert solution.counts.tolist() == [0, 2] and solution.value == pytest.approx(0.75)
    assert covering_units(instance, one_each).tolist() == [2, 1]
    # Not busy, expected cover is plain cover; MCLP needs one post at B for all of it.
    assert expected_covered_share(instance, one_each, 0.0) == covered_share(instance, one_each) == 1.0
    assert mean_travel_min(instance, one_each) == pytest.approx(5.0)


def test_mclp_breaks_ties_by_backup_cover():
    rng = np.random.default_rng(12)
    cases = 0
    for _ in range(N_RANDOM):
        instance, units, _ = _random_instance(rng)

        def backup(counts):
            return float(instance.weight @ (covering_units(instance, counts) >= 2))

        placements = [np.bincount(c, minlength=instance.n_candidates)
                      for c in itertools.combinations(range(instance.n_candidates), units)]
        best = max(covered_share(instance, c) for c in placements)
        ties = [backup(c) for c in placements if math.isclose(covered_share(instance, c), best, rel_tol=1e-12)]
        solution = solve(instance, units, "mclp")
        assert solution.value == pytest.approx(best, rel=1e-12)
        assert backup(solution.counts) == pytest.approx(max(ties))
        cases += max(ties) > min(ties)
    assert cases >= 10  # the tie-break mattered in many of them


# -- the p-median's exact reductions --------------------------------------------------------------------


def _cost(instance: Instance) -> np.ndarray:
    return instance.weight[:, None] * instance.travel_min


def _optimal_placements(instance: Instance, units: int) -> tuple[float, list[set[int]]]:
    cost = _cost(instance)
    costs = {combo: sum(cost[:, list(combo)].min(axis=1)) for combo in
             itertools.combinations(range(instance.n_candidates), units)}
    best = min(costs.values())
    return best, [set(combo) for combo, value in costs.items() if math.isclose(value, best, rel_tol=1e-12)]


def test_lagrangian_bound_and_fixing_keep_every_optimal_placement():
    rng = np.random.default_rng(21)
    fixed = 0
    for _ in range(N_RANDOM):
        instance, units, _ = _random_instance(rng)
        cost = _cost(instance)
        best, optimal = _optimal_placements(instance, units)
        bound, lam, _ = lagrangian_bound(cost, units, best * 1.5, deadline=math.inf, rel_gap=1e-9)
        assert bound <= best * (1 + 1e-9)
        closed, opened = fix_candidates(cost, lam, units, best)
        for placement in optimal:
            assert not closed[list(placement)].any()
            assert set(np.flatnonzero(opened)) <= placement
        fixed += int(closed.sum() + opened.sum())
    assert fixed > 0  # the fixing did something on these instances


def test_reduced_milp_grows_the_candidate_lists_until_exact():
    # Each demand point starts with its single nearest candidate: the slack is used, the lists grow.
    rng = np.random.default_rng(22)
    for _ in range(N_RANDOM):
        instance, units, _ = _random_instance(rng)
        cost = _cost(instance)
        best, _ = _optimal_placements(instance, units)
        none = np.zeros(instance.n_candidates, bool)
        start = np.zeros(instance.n_candidates, bool)
        start[:units] = True
        answer = milp_stage(cost, units, none, none, np.ones(len(cost), dtype=np.int64), start, -math.inf,
                            deadline=math.inf, rel_gap=1e-9)
        assert answer.proven
        assert answer.cost == pytest.approx(best, rel=1e-9)
        assert assignment_cost(cost, answer.open_) == pytest.approx(answer.cost)


# -- demand, candidates, placement -----------------------------------------------------------------------


def _scenario_data(network, tmp_path=None) -> dict:
    """Three sites on demo-network nodes far apart, one car type fast and one slow."""
    from tests.builders import base_scenario, site_at

    far = [int(network.nearest_node(lon, lat)[0]) for lon, lat in
           ((113.4984, -8.0961), (113.7022, -8.1700), (113.6069, -8.3813))]
    sites = [site_at(network, far[0], "tanggul"), site_at(network, far[1], "city"),
             site_at(network, far[2], "ambulu")]
    disturbances = [
        {"type": "fight", "rate_per_hour": 0.2, "sites": {"city": 3, "tanggul": 1},
         "hourly_profile": [0.0] * 12 + [2.0] * 12, "on_scene_min": {"dist": "fixed", "value": 20},
         "units_required": 1, "priority": 1},
        {"type": "riot", "rate_per_hour": 0.02, "sites": {"ambulu": 1},
         "on_scene_min": {"dist": "exponential", "mean": 60}, "units_required": 2, "priority": 1},
    ]
    units = [{"type": "car", "count": 1, "base": "city", "patrol": {"mode": "base"}},
             {"type": "slow_car", "count": 1, "base": "tanggul", "patrol": {"mode": "base"}}]
    return base_scenario(sites, disturbances, units, hours=24, reps=4, warmup=12)


@pytest.fixture(scope="module")
def network(cache):
    from sim.network import NetworkSpec, load_network

    return load_network(NetworkSpec("demo"))


@pytest.fixture(scope="module")
def small_study(network):
    from sim import Study

    return Study(_scenario_data(network))


def test_demand_is_rate_times_profile_mean_times_share(small_study):
    from sim.optimize.demand import site_demand

    demand = site_demand(small_study.scenario)
    # Measured clock 12:00-24:00, where the fight profile is 2: 0.2 * 2 = 0.4 an hour, 3:1 city:tanggul.
    assert demand.site_ids == ("tanggul", "city", "ambulu")
    assert demand.per_hour.tolist() == pytest.approx([0.1, 0.3, 0.02])
    # Unit time on scene: 0.4/h * 1 unit * 20 min + 0.02/h * 2 units * 60 min, in erlangs.
    assert demand.offered_load_erlang == pytest.approx(0.4 / 60 * 20 + 0.02 / 60 * 2 * 60)
    assert demand.default_busy(2) == pytest.approx(demand.offered_load_erlang / 2)


def test_node_candidates_spread_within_reach_of_the_demand(small_study):
    from sim.optimize.candidates import build_candidates, parse_candidates
    from sim.optimize.demand import site_demand
    from sim.optimize.travel import travel_min_from_tables

    scenario, world = small_study.scenario, small_study.world()
    demand = site_demand(scenario)
    kind, k = parse_candidates("nodes:40")
    found = build_candidates(kind, k, scenario, world, demand)
    again = build_candidates(kind, k, scenario, world, demand)
    assert [c.node for c in found] == [c.node for c in again]  # deterministic
    new = [c for c in found if c.new]
    assert [c.id for c in found if not c.new] == ["tanggul", "city", "ambulu"]
    assert 0 < len(new) <= 40 and len({c.node for c in found}) == len(found)
    demand_nodes = [world.site_node[s] for s in demand.site_ids]
    minutes = travel_min_from_tables(world.tables, demand_nodes, [c.node for c in new])
    assert (minutes.min(axis=0) <= scenario.target_response_min).all()  # each covers some demand
    # Shares follow the weights (0.1 : 0.3 : 0.02 of 40 = 9.5, 28.6, 1.9 -> 9, 29, 2): most near the city.
    nearest_site = minutes.argmin(axis=0)
    assert np.bincount(nearest_site, minlength=3)[1] > len(new) / 2
    for text in ("nodes:0", "nodes:5001", "node:3", "everything"):
        with pytest.raises(Exception, match="--candidates"):
            parse_candidates(text, "--candidates")


def test_faster_types_take_the_posts_with_the_longest_travel():
    from sim.optimize.candidates import Candidate
    from sim.optimize.placement import FleetUnit, assign_units, plan_dict

    # Post 0 serves a site 1 min away; post 1 serves one 12 min away.
    instance = Instance(np.array([1.0, 1.0]), np.array([[1.0, 30.0], [30.0, 12.0]]), 15.0)
    candidates = [Candidate("near", 0, 0.0, 0.0, False, "near"), Candidate("far", 1, 0.0, 0.0, False, "far")]
    fleet = [FleetUnit("slow", 0.8, None), FleetUnit("fast", 1.0, None)]
    placed = assign_units(instance, [0, 1], fleet, candidates, world=None)
    assert {(candidates[p.post].id, p.unit.type) for p in placed} == {("near", "slow"), ("far", "fast")}
    plan = plan_dict("p", "d", placed, candidates)
    assert plan["units"] == [{"type": "fast", "count": 1, "base": "far", "patrol": {"mode": "post", "at": "far"}},
                             {"type": "slow", "count": 1, "base": "near", "patrol": {"mode": "post", "at": "near"}}]


def test_added_sites_change_nothing_for_the_plans_already_there(network):
    from sim import Study
    from sim.optimize.candidates import Candidate
    from sim.optimize.verify import study_with

    data = _scenario_data(network)
    data["disturbances"][0]["sites"] = "all"  # every site alike: a new site must not join them
    data["plans"][0]["units"][1]["patrol"] = {"mode": "random", "dwell_min": 5}  # every site: idem
    study = Study(data)
    node = int(network.nearest_node(113.80, -8.12)[0])
    new = Candidate("post_x", node, float(network.lat[node]), float(network.lon[node]), True, "x").site_dict()
    with_site = study_with(study, [new], [])
    assert "post_x" in with_site.scenario.site_ids
    before, after = study.run(reps=2), with_site.run(reps=2)
    assert before.incident_rows == after.incident_rows
    assert before.unit_rows == after.unit_rows


# -- refinement by simulation ------------------------------------------------------------------------------


def test_refine_keeps_a_move_the_simulation_shows_better(small_study):
    from sim.optimize.placement import FleetUnit, PlacedUnit
    from sim.optimize.problem import build_problem
    from sim.optimize.refine import improves, refine

    assert improves(2.0, 1.5, "within_target") and not improves(2.0, 2.5, "within_target")
    assert improves(-1.0, 0.5, "response") and not improves(1.0, 0.5, "response")
    assert not improves(3.0, math.nan, "within_target")
    problem = build_problem(small_study.scenario, small_study.world(), "sites")
    ids = [c.id for c in problem.candidates]
    # Start badly: the fast car at Ambulu, the slow one at Tanggul; the city has most incidents.
    placed = [PlacedUnit(FleetUnit("car", 1.0, "city"), ids.index("ambulu")),
              PlacedUnit(FleetUnit("slow_car", 0.8, "tanggul"), ids.index("tanggul"))]
    said: list[str] = []
    final, moves = refine(small_study, problem.candidates, placed, small_study.world(), budget=4, reps=6,
                          progress=said.append)
    assert moves[0].from_post == "ambulu" and moves[0].accepted  # to the city, which is the other candidate
    # Each move's progress line says whether the unit moved, in words that cannot be read the other way.
    lines = [text for text in said if text.lstrip().startswith("refine ")]
    assert len(lines) == len(moves)
    for move, line in zip(moves, lines):
        assert line.endswith(" moved" if move.accepted else " not moved (no clear gain)"), line
    assert ids[final[0].post] == "city"
    assert moves[0].change - moves[0].change_ci95 > 0
    assert len(moves) <= 4


# -- the command on the default scenario ------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return in_process(*args)


@pytest.fixture(scope="module")
def default_run(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("optimize") / "out"
    result = cli("optimize", str(DEFAULT_SCENARIO), "--candidates", "towns", "--verify-reps", "3", "--workers", "1",
                 "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow
def test_json_has_every_figure_for_the_posts_found(default_run):
    from sim import Study
    from sim.optimize.problem import build_problem

    out, result = default_run
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    found = json.loads(lines[0])
    assert set(found) == {"objective", "units", "posts", "covered_share", "mean_travel_min", "expected_covered_share",
                          "optimal", "gap", "seconds", "solver", "busy"}
    assert found["objective"] == "mclp" and found["units"] == 8 and found["posts"] == sorted(found["posts"])
    assert found["optimal"] is True and found["solver"].startswith("HiGHS")
    # The figures are those of the posts printed, recomputed here from the problem.
    study = Study(DEFAULT_SCENARIO)
    problem = build_problem(study.scenario, study.world(), "towns")
    index = {c.id: i for i, c in enumerate(problem.candidates)}
    counts = np.bincount([index[p] for p in found["posts"]], minlength=problem.n_candidates)
    assert found["covered_share"] == pytest.approx(covered_share(problem.instance, counts), rel=1e-5)
    assert found["mean_travel_min"] == pytest.approx(mean_travel_min(problem.instance, counts), rel=1e-5)
    assert found["expected_covered_share"] == pytest.approx(
        expected_covered_share(problem.instance, counts, found["busy"]), rel=1e-5)
    record = json.loads((out / "optimize.json").read_text())
    assert record["proposals"][0]["posts"] == found["posts"]


@pytest.mark.slow
def test_the_hand_written_plans_run_as_in_run(default_run):
    from sim import Study

    out, _ = default_run
    import pandas as pd

    verified = pd.read_csv(out / "verification" / "summary.csv").set_index("plan")
    plain = Study(DEFAULT_SCENARIO).run(reps=3)
    assert list(verified.index) == ["optimized-mclp", *plain.plans]
    for column in ("incidents", "response_mean_min", "within_target_pct", "busy_fraction_mean"):
        assert verified.loc[plain.plans, column].tolist() == pytest.approx(
            plain.summary.set_index("plan")[column].tolist(), abs=6e-5), column


@pytest.mark.slow
def test_the_proposed_plan_loads_back_into_the_scenario_and_runs_the_same(default_run):
    from sim import Study
    from sim.config import load_scenario

    out, _ = default_run
    text = (out / "proposed_plan.yaml").read_text()
    assert text.startswith("# Proposed by patrolsim") and "synthetic" in text
    proposed = yaml.safe_load(text)
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    data["sites"] = data["sites"] + proposed.get("sites", [])
    data["plans"] = data["plans"] + proposed["plans"]
    load_scenario(copy.deepcopy(data))  # a plain scenario again
    study = Study(data, folder=DEFAULT_SCENARIO.parent)
    again = study.run(plans=["optimized-mclp"], reps=3).replications
    import pandas as pd

    incidents = pd.read_csv(out / "verification" / "incidents.csv")
    mine = incidents[(incidents["plan"] == "optimized-mclp") & (incidents["counted"] == 1)]
    within = (mine.groupby("rep")["response_min"].apply(lambda r: 100 * (r <= 15).mean()))
    assert again["within_target_pct"].tolist() == pytest.approx(within.tolist(), abs=0.01)
    assert (out / "coverage_map.png").stat().st_size > 10_000


@pytest.mark.slow
def test_the_fleet_size_curve(cache, tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "curve"
    assert main(["optimize", str(DEFAULT_SCENARIO), "--units", "3..6", "--verify-reps", "2", "--workers", "1",
                 "--out", str(out)]) == 0
    import pandas as pd

    curve = pd.read_csv(out / "fleet_curve.csv")
    assert curve["units"].tolist() == [3, 4, 5, 6]
    # The best cover of n + 1 cars is at least that of n (an extra car can stand anywhere).
    assert (np.diff(curve["covered_share"]) >= -1e-9).all()
    assert (out / "fleet_curve.png").stat().st_size > 10_000
    plans = yaml.safe_load((out / "proposed_plan.yaml").read_text())["plans"]
    assert [sum(g["count"] for g in p["units"]) for p in plans] == [3, 4, 5, 6]
    assert "within 15 min (simulated)" in capsys.readouterr().out
    # What each car added: the verification's paired difference against the fleet one car smaller.
    pairs = pd.read_csv(out / "verification" / "comparison_pairs.csv").set_index(["plan", "other"])
    names = [p["name"] for p in plans]
    assert np.isnan(curve["added_within_target_pts"][0]), "the smallest fleet has nothing to add to"
    for k in range(1, 4):
        pair = pairs.loc[(names[k], names[k - 1])]
        assert curve["added_within_target_pts"][k] == pytest.approx(pair["within_target_diff_pct"], abs=1e-4), k
        assert curve["added_within_target_ci95"][k] == pytest.approx(pair["within_target_diff_ci95"], abs=1e-4), k


@pytest.mark.parametrize("args, message", [
    (["--units", "0"], "--units 0: at least 1 car"),
    (["--units", "40"], "--units 40: more units than the 15 candidate posts"),
    (["--fleet", "mixd"], "no plan 'mixd' in scenario 'jember-pilkada-2024'; did you mean 'mixed'?"),
    (["--goal", "0.9", "--for-kind", "polling_station"], "--for-kind 'polling_station': no site of that kind; "
                                                          "kinds: crowd_point"),
    (["--goal", "0.9", "--for-type", "crowd_unrst"], "did you mean 'crowd_unrest'?"),
    (["--goal", "1.5"], "--goal 1.5: a share above 0 and at most 1"),
    (["--for-kind", "crowd_point"], "--for-kind: says which incidents --goal counts; give --goal too"),
    (["--phase", "voting_day"], "--phase: scenario 'jember-pilkada-2024' has no calendar"),
    (["--bases", "polsek"], "--bases 'polsek': one of nearest-post, hq"),
    (["--units", "1..12"], "needs at least 3 units (crowd_unrest needs 3 at once); try --units 3..12"),
])
def test_bad_input_is_one_line_per_problem_and_writes_nothing(cache, tmp_path, capsys, args, message):
    from sim.cli import main

    out = tmp_path / "out"
    assert main(["optimize", str(DEFAULT_SCENARIO), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert all(line.startswith("error: ") for line in err.splitlines())
    assert not out.exists()
