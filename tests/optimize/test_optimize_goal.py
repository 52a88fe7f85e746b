"""The optimiser's reductions, its time limit, its travel matrix, the refine streams, and the
smallest fleet for a goal (the search against brute force, and the command on a grid town)."""
from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest
import yaml

from sim.optimize.coverage import reduce, solve_cover, value_of
from sim.optimize.goal import Tried, judged, search
from sim.optimize.metrics import Instance, covered_share
from sim.optimize.objectives import OBJECTIVES, objective
from sim.optimize.pmedian import assignment_cost, milp_stage
from tests.graphs import random_grid_network

N_RANDOM = 40


def _best_cover(cover, weight, units, levels, stack) -> float:
    n_cand = cover.shape[1]
    choose = itertools.combinations_with_replacement if stack else itertools.combinations
    return max(value_of(cover, weight, np.bincount(c, minlength=n_cand), levels) for c in choose(range(n_cand), units))


def test_covering_reductions_keep_the_optimum():
    """Rows merged, dominated columns dropped (one per level they could still add, none when units
    stack): the best value on the reduced data is the best value on the original, by enumeration."""
    rng = np.random.default_rng(31)
    dropped = 0
    for _ in range(N_RANDOM):
        n_dem, n_cand = int(rng.integers(5, 11)), int(rng.integers(4, 8))
        cover = rng.uniform(size=(n_dem, n_cand)) < rng.uniform(0.2, 0.6)
        cover[:, 0] |= cover[:, 1]                     # column 1 inside column 0: dominated
        weight = rng.integers(1, 6, n_dem).astype(float)
        units = int(rng.integers(1, min(3, n_cand) + 1))
        for levels, stack in ((np.ones(1), False), (np.ones(2), False), (np.array([0.6, 0.24, 0.1]), True)):
            reduced = reduce(cover, weight, len(levels), stack)
            dropped += cover.shape[1] - reduced.cover.shape[1]
            if units > reduced.cover.shape[1] and not stack:
                continue   # every kept column open: solve_cover covers it (below)
            assert _best_cover(reduced.cover, reduced.weight, units, levels, stack) == pytest.approx(
                _best_cover(cover, weight, units, levels, stack), rel=1e-12), (levels, stack)
            answer = solve_cover(reduced, units, levels, stack, math.inf, 1e-9)
            assert answer.proven and answer.value == pytest.approx(_best_cover(cover, weight, units, levels, stack))
    assert dropped > N_RANDOM  # the reductions did something


def test_reduced_pmedian_program_equals_brute_force_with_ties():
    """The radius formulation over each point's nearest candidates, grown where a point falls
    beyond its list, on integer minutes (many ties between candidates)."""
    rng = np.random.default_rng(33)
    for _ in range(N_RANDOM):
        n_dem, n_cand = int(rng.integers(6, 14)), int(rng.integers(4, 9))
        units = int(rng.integers(1, min(4, n_cand) + 1))
        cost = rng.integers(1, 6, n_dem)[:, None] * rng.integers(0, 8, (n_dem, n_cand)).astype(float)
        best = min(cost[:, list(c)].min(axis=1).sum() for c in itertools.combinations(range(n_cand), units))
        none = np.zeros(n_cand, bool)
        start = np.zeros(n_cand, bool)
        start[rng.choice(n_cand, units, replace=False)] = True
        keep = rng.integers(1, n_cand + 1, n_dem)
        answer = milp_stage(cost, units, none, none, keep, start, -math.inf, deadline=math.inf, rel_gap=1e-9)
        assert answer.proven and answer.cost == pytest.approx(best)
        assert assignment_cost(cost, answer.open_) == pytest.approx(best)


def test_demand_exactly_at_the_target_counts_as_covered():
    """Integer-minute travel: a site exactly 15 min from the only post that reaches it is covered."""
    travel = np.array([[15.0, 40.0], [30.0, 15.0], [15.0, 15.0]])
    instance = Instance(np.array([1.0, 2.0, 1.0]), travel, 15.0)
    assert covered_share(instance, np.array([1, 1])) == 1.0
    assert covered_share(instance, np.array([0, 1])) == pytest.approx(3 / 4)
    for name in ("mclp", "mexclp"):
        solution = objective(name).solve(instance, 2, 0.1)
        assert solution.counts.tolist() == [1, 1] if name == "mclp" else solution.counts[1] >= 1
        assert objective(name).value(instance, np.array([1, 1]), 0.0) == 1.0


def test_every_objective_is_a_registered_class_with_its_words():
    assert set(OBJECTIVES) >= {"mclp", "mexclp", "pmedian"}
    assert objective("pmedian").higher_is_better is False and objective("pmedian").uses_coverage is False
    assert objective("mexclp").stacks and not objective("mclp").stacks
    with pytest.raises(ValueError, match="one of mclp"):
        objective("maxcover")


def test_the_time_limit_is_held_even_when_the_solver_would_run_on():
    """A covering program HiGHS cannot finish in a second: the answer comes within the limit (plus
    the grace to collect it), with the greedy and swap placement and a gap."""
    rng = np.random.default_rng(5)
    travel = rng.uniform(0, 40, (1500, 700))
    instance = Instance(rng.uniform(0.5, 1.5, 1500), travel, 2.5)
    started = time.perf_counter()
    solution = objective("mclp").solve(instance, 25, 0.0, time_limit_s=1.0)
    took = time.perf_counter() - started
    assert took < 1.0 + 2.0, f"{took:.1f} s for a 1 s limit"
    assert int(solution.counts.sum()) == 25
    assert not solution.optimal and solution.gap > 0


def test_travel_by_forward_search_equals_the_reverse_trees_on_one_way_roads():
    """travel_min_forward searches from the candidates along the traffic; on a grid with one-way
    streets it gives the reverse trees' minutes, and they differ from the reverse direction's."""
    from sim.network.trees import TravelTimes
    from sim.optimize.travel import travel_min_forward, travel_min_from_tables

    grid = random_grid_network(9, 9, seed=4, one_way_share=0.4)
    rng = np.random.default_rng(2)
    demand = rng.choice(grid.n_nodes, 25, replace=False)
    candidates = np.concatenate([rng.choice(grid.n_nodes, 10, replace=False), [demand[0]]])
    forward = travel_min_forward(grid, candidates, demand)
    tables = travel_min_from_tables(TravelTimes(grid), demand, candidates)
    assert forward.shape == (25, 11)
    np.testing.assert_allclose(forward, tables, rtol=1e-12)
    backwards = travel_min_from_tables(TravelTimes(grid), candidates, demand).T
    assert not np.allclose(forward, backwards)  # one-way streets: direction matters here


# -- the search ---------------------------------------------------------------------------------------


def _curve_search(values: dict[int, float], goal: float, start: int):
    calls = []

    def evaluate(n: int) -> Tried:
        calls.append(n)
        return Tried(n, f"p{n}", {0: values[n]}, 10, values[n], 0.0, values[n], values[n] >= goal)

    sizes = sorted(values)
    return search(sizes, start, evaluate, goal), calls


def test_the_search_finds_the_brute_force_smallest_size_in_few_simulations():
    rng = np.random.default_rng(8)
    for _ in range(300):
        sizes = range(int(rng.integers(1, 5)), int(rng.integers(6, 60)))
        values = dict(zip(sizes, np.sort(rng.uniform(0, 1, len(sizes)))))   # rising with the fleet
        goal = float(rng.uniform(0.05, 1.1))
        brute = next((n for n in sizes if values[n] >= goal), None)
        found, calls = _curve_search(values, goal, int(rng.choice(list(sizes))))
        assert found.answer == brute, (values, goal)
        assert len(calls) == len(set(calls)) and len(calls) <= 2 * math.log2(len(sizes)) + 4
        assert found.out_of_order == []


def test_a_curve_out_of_order_gives_a_size_that_meets_with_the_next_smaller_failing():
    values = {n: v for n, v in zip(range(1, 13), [.1, .3, .5, .7, .92, .85, .91, .95, .96, .97, .98, .99])}
    found, calls = _curve_search(values, 0.9, 3)
    assert values[found.answer] >= 0.9 and values[found.answer - 1] < 0.9
    assert {t.units for t in found.tried} == set(calls)


def test_the_rule_decides_by_the_lower_bound_or_the_mean():
    shares = {0: 0.88, 1: 0.95, 2: 0.92, 3: 0.90}
    lower, mean = judged(5, "p", shares, 40, 0.90, "lower"), judged(5, "p", shares, 40, 0.90, "mean")
    assert mean.meets and not lower.meets
    assert lower.mean == pytest.approx(0.9125) and lower.lower < 0.90 < lower.mean


def test_the_refine_search_runs_on_other_streams_than_the_verification(cache, tmp_path):
    """The moves are judged on replications the verification never sees: another seed, other incidents."""
    from sim import Study
    from sim.optimize.refine import refine_study

    study = Study(_grid_town(tmp_path))
    other = refine_study(study)
    assert other.scenario.seed != study.scenario.seed
    mine = [(i.spec.t_created_min, i.spec.site) for i in study.simulate(study.plans[0], 0).incidents]
    theirs = [(i.spec.t_created_min, i.spec.site) for i in other.simulate(study.plans[0], 0).incidents]
    assert mine != theirs


# -- the command on a grid town ---------------------------------------------------------------------------


def _grid_town(tmp_path):
    """A 7 x 7 street grid (one-way streets, 15-minute target at 2 min a block or so) with six
    demand sites at its corners and edges and a police post in the middle."""
    import osmnx as ox

    grid = random_grid_network(7, 7, seed=11, spacing_m=700.0, one_way_share=0.2)
    path = tmp_path / "grid.graphml"
    ox.save_graphml(grid.to_graph(), path)
    corners = [0, 6, 42, 48, 21, 27]
    sites = [{"id": f"s{i}", "name": f"Site {i}", "kind": "market", "lat": float(grid.lat[n]),
              "lon": float(grid.lon[n])} for i, n in enumerate(corners)]
    sites.append({"id": "polsek_tengah", "name": "Polsek Tengah", "kind": "police_post",
                  "lat": float(grid.lat[24]), "lon": float(grid.lon[24])})
    data = {"name": "grid-town", "network": {"source": "file", "path": str(path)},
            "clock": {"start": "2024-10-23T00:00", "duration_hours": 48, "warmup_hours": 1}, "replications": 4,
            "seed": 3, "target_response_min": 4, "sites": sites,
            "disturbances": [{"type": "call", "rate_per_hour": 1.5, "sites": {f"s{i}": 1 for i in range(6)},
                              "on_scene_min": {"dist": "exponential", "mean": 25}, "priority": 1}],
            "unit_types": {"car": {"agency": "Polri"}},
            "plans": [{"name": "hq", "units": [{"type": "car", "count": 2, "base": "polsek_tengah",
                                                "patrol": {"mode": "base"}}]}]}
    file = tmp_path / "grid_town.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


def test_the_smallest_fleet_equals_the_brute_force_answer_on_a_grid_town(cache, tmp_path, capsys):
    from sim import Study
    from sim.cli import main
    from sim.optimize.goal import rep_shares

    scenario = _grid_town(tmp_path)
    out = tmp_path / "goal"
    assert main(["optimize", str(scenario), "--goal", "0.8", "--units", "1..6", "--verify-reps", "4",
                 "--workers", "1", "--out", str(out), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    # Brute force: every size 1..6 placed by the same program and simulated on the same replications.
    plans = yaml.safe_load((out / "proposed_plan.yaml").read_text())["plans"]
    assert [p["name"] for p in plans] == [f"optimized-mclp-{found['units']}"]
    study = Study(scenario)
    shares = {}
    from sim.optimize.objectives import objective as by_name
    from sim.optimize.placement import fleet_of_units
    from sim.optimize.problem import build_problem
    from sim.optimize.proposal import propose
    from sim.optimize.request import Request
    request = Request(scenario=scenario, fleet=None, units=(1,), time_limit_s=10.0)
    problem = build_problem(study.scenario, study.world(), "sites")
    for n in range(1, 7):
        proposal = propose(request, by_name("mclp"), study, problem, fleet_of_units(study.scenario, n), f"n{n}",
                           0.0, 4)
        results = study.with_plan(proposal.plan).run(plans=[f"n{n}"], reps=4)
        per_rep, _ = rep_shares(results.rows[f"n{n}"][0], 4, 4.0, lambda row: True)
        shares[n] = judged(n, f"n{n}", per_rep, 0, 0.8, "lower")
    brute = next(n for n in range(1, 7) if shares[n].meets)
    assert found["units"] == brute
    simulated = {c["units"]: c for c in found["curve"]}
    for n, c in simulated.items():  # common random numbers: the command's figures are the brute force's
        assert c["share"] == pytest.approx(shares[n].mean, rel=1e-5)   # JSON keeps 6 digits
    assert found["verified_share"] == pytest.approx(shares[brute].mean, rel=1e-5)
    assert found["verified_share_lower"] == pytest.approx(shares[brute].lower, rel=1e-5)
    assert brute - 1 in simulated or brute == 1
    plan = yaml.safe_load((out / "proposed_plan.yaml").read_text())["plans"][0]
    assert {g["base"] for g in plan["units"]} == {"polsek_tengah"}   # based at the police post
    assert (out / "fleet_curve.png").stat().st_size > 10_000 and (out / "coverage_map.png").exists()


# -- refusals that were wrong ---------------------------------------------------------------------------


def _optimize(tmp_path, *args: str) -> tuple[int, str, str, object]:
    from sim.cli import main
    from tests.optimize.test_optimize import DEFAULT_SCENARIO

    out = tmp_path / "out"
    import contextlib
    import io
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["optimize", str(DEFAULT_SCENARIO), *args, "--verify-reps", "2", "--workers", "1",
                     "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue(), out


@pytest.mark.slow
def test_pmedian_over_the_bases_is_not_refused_for_coverage(cache, tmp_path):
    """Coverage plays no part in the p-median: sites no base reaches within the target are no reason to refuse."""
    code, stdout, stderr, out = _optimize(tmp_path, "--objective", "pmedian", "--candidates", "bases", "--units", "3",
                                          "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["objective"] == "pmedian" and "reaches within" not in stderr
    assert json.loads((out / "optimize.json").read_text())["unreachable_sites"] == []


@pytest.mark.slow
def test_sites_no_candidate_reaches_are_listed_and_counted_late(cache, tmp_path):
    code, _, stderr, out = _optimize(tmp_path, "--candidates", "bases", "--units", "3", "--json")
    assert code == 0, stderr
    assert "3 site(s) with incidents no bases candidate reaches within 15 min" in stderr and "count as late" in stderr
    record = json.loads((out / "optimize.json").read_text())
    nearest = {u["site"]: u["nearest_candidate_min"] for u in record["unreachable_sites"]}
    assert set(nearest) == {"tanggul", "ambulu", "kalisat"}
    # Travel is searched up to twice the target: farther is "more than 30 min" (null in the JSON).
    assert all(m is None or 15 < m <= 30 for m in nearest.values())
    assert all((f"{site} (more than 30 min)" in stderr) == (m is None) for site, m in nearest.items())


@pytest.mark.slow
def test_a_tiny_target_runs_through_with_bands_of_its_own(cache, tmp_path):
    """The map's bands follow the target at any size, so a run is never stopped late by a flag it was not given."""
    from sim.viz.maps import check_bands, target_bands

    for target in (0.001, 0.25, 3, 15, 240):
        check_bands(target_bands(target))
    assert target_bands(15) == (5, 10, 15, 20) and target_bands(0.001)[2] == 0.001
    code, _, stderr, out = _optimize(tmp_path, "--set", "target_response_min=0.001", "--units", "3", "--json")
    assert code == 0 and "--bands" not in stderr, stderr
    assert (out / "coverage_map.png").exists()


def test_travel_backward_from_the_demand_equals_the_reverse_trees():
    from sim.network.trees import TravelTimes
    from sim.optimize.travel import travel_min, travel_min_from_tables, travel_min_reverse

    grid = random_grid_network(8, 8, seed=6, one_way_share=0.4)
    rng = np.random.default_rng(3)
    demand = rng.choice(grid.n_nodes, 6, replace=False)
    candidates = rng.choice(grid.n_nodes, 30, replace=False)
    reference = travel_min_from_tables(TravelTimes(grid), demand, candidates)
    np.testing.assert_allclose(travel_min_reverse(grid, candidates, demand), reference, rtol=1e-12)
    np.testing.assert_allclose(travel_min(grid, demand, candidates), reference, rtol=1e-12)


# -- season-aware placement, readable plans -----------------------------------------------------------------


def _season_data(tmp_path) -> dict:
    """The grid town over two days: a market day (calls x3) and a quiet day (calls x0), a protest
    on the quiet day at one site."""
    data = yaml.safe_load(_grid_town(tmp_path).read_text())
    data["calendar"] = {"phases": [
        {"name": "market_day", "start": "2024-10-23T00:00", "end": "2024-10-24T00:00", "rate_multiplier": {"call": 3}},
        {"name": "quiet_day", "start": "2024-10-24T00:00", "end": "2024-10-25T00:00", "rate_multiplier": {"all": 0}}]}
    data["events"] = [{"id": "protest", "start": "2024-10-24T10:00", "hours": 6, "sites": {"s5": 1},
                       "rate_per_hour": {"call": 2.0}}]
    return data


def test_the_demand_of_a_phase_is_its_rates_and_events(tmp_path):
    from sim.config import load_scenario
    from sim.optimize.demand import measured_window, phase_window, site_demand

    data = _season_data(tmp_path)
    scenario = load_scenario(data, folder=tmp_path)
    market, quiet = scenario.calendar.phases
    busy = site_demand(scenario, phase_window(scenario, market))       # hours 1-24 (after warm-up), x3
    assert busy.total_per_hour == pytest.approx(1.5 * 3)
    calm = site_demand(scenario, phase_window(scenario, quiet))        # only the protest: 2/h for 6 of 24 h
    assert calm.site_ids == ("s5",) and calm.total_per_hour == pytest.approx(2.0 * 6 / 24)
    whole = site_demand(scenario, measured_window(scenario))           # 23 h at 4.5/h, 24 h at 0, 12 calls
    assert whole.total_per_hour == pytest.approx((23 * 4.5 + 12) / 47)
    assert "phase" in measured_window(scenario).words or "every phase" in measured_window(scenario).words


@pytest.mark.parametrize("args, message", [
    (["--phase", "market"], "--phase 'market': no such phase; one of market_day, quiet_day; did you mean 'market_day'?"),
    (["--at", "2024-10-26T10:00"], "--at 2024-10-26T10:00: in no phase of the calendar (market_day, quiet_day)"),
    (["--at", "tomorrow"], "--at 'tomorrow': not an ISO date-time"),
    (["--phase", "quiet_day", "--at", "2024-10-24T10:00"], "--phase and --at: give one"),
])
def test_a_phase_that_is_not_there_is_refused_before_anything_runs(cache, tmp_path, capsys, args, message):
    from sim.cli import main

    file = tmp_path / "season.yaml"
    file.write_text(yaml.safe_dump(_season_data(tmp_path), sort_keys=False))
    out = tmp_path / "out"
    assert main(["optimize", str(file), "--units", "2", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_a_phase_places_for_its_own_demand_and_reports_its_share(cache, tmp_path, capsys):
    """On the quiet day only the protest site has incidents: one car goes there (or within the
    target of it), and the verification reports the share during that phase."""
    from sim.cli import main

    file = tmp_path / "season.yaml"
    file.write_text(yaml.safe_dump(_season_data(tmp_path), sort_keys=False))
    out = tmp_path / "out"
    assert main(["optimize", str(file), "--units", "1", "--at", "2024-10-24T12:00", "--verify-reps", "2",
                 "--workers", "1", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "demand placed: phase quiet_day" in shown and "during phase quiet_day only" in shown
    record = json.loads((out / "optimize.json").read_text())
    assert record["demand"]["phase"] == "quiet_day" and list(record["demand"]["per_hour"]) == ["s5"]
    assert record["proposals"][0]["covered_share"] == 1.0
    during = record["phase_verification"]["optimized-mclp"]
    assert during["incidents"] > 0 and 0 <= during["share"] <= 1


def test_proof_words_say_what_the_gap_means():
    from sim.optimize.outputs import proof_text

    assert proof_text(True, 0.0) == "proven optimal"
    tiny = proof_text(False, 2e-6, 60)
    assert "0.00%" not in tiny and "less than 0.01%" in tiny and "60 s time limit" in tiny
    assert "at most 1.25% better than this one" in proof_text(False, 0.0125, 5)


def test_units_are_based_at_the_police_post_nearest_their_post_or_as_the_plan_has_them(cache, tmp_path):
    from sim import Study
    from sim.optimize.objectives import objective as by_name
    from sim.optimize.placement import fleet_of_units
    from sim.optimize.problem import build_problem
    from sim.optimize.proposal import propose
    from sim.optimize.request import Request
    from sim.optimize.travel import times_s_to

    data = yaml.safe_load(_grid_town(tmp_path).read_text())
    grid_site = data["sites"][0]   # s0, a corner: a second police post there
    data["sites"].append({**grid_site, "id": "pos_pojok", "name": "Pos Polisi Pojok", "kind": "police_post"})
    study = Study(data, folder=tmp_path)
    problem = build_problem(study.scenario, study.world(), "sites")
    fleet = fleet_of_units(study.scenario, 4)
    world = study.world()
    posts = {"polsek_tengah": world.site_node["polsek_tengah"], "pos_pojok": world.site_node["pos_pojok"]}
    for bases in ("nearest-post", "hq"):
        request = Request(scenario=tmp_path, fleet=None, units=(4,), time_limit_s=10.0, bases=bases)
        proposal = propose(request, by_name("mclp"), study, problem, fleet, "p", 0.0, 2)
        for item in proposal.placed:
            post_node = problem.candidates[item.post].node
            if bases == "hq":   # the first unit type's base in the plans
                assert item.unit.base == "polsek_tengah"
                continue
            minutes = {name: float(times_s_to(world.tables, post_node, [node])[0]) for name, node in posts.items()}
            assert minutes[item.unit.base] == min(minutes.values()), (item, minutes)
        if bases == "nearest-post":
            assert {item.unit.base for item in proposal.placed} == set(posts)  # both posts serve some units
        assert [label.id for label in proposal.labels] == sorted(label.id for label in proposal.labels)
        assert all(label.kecamatan for label in proposal.labels)


@pytest.mark.slow
def test_a_goal_over_few_candidates_is_not_refused_for_the_first_plans_fleet(cache, tmp_path):
    """A goal places N cars of the first type: the first plan's size (8 here) does not bound it."""
    from sim import Study
    from tests.optimize.test_optimize import DEFAULT_SCENARIO

    study = Study(DEFAULT_SCENARIO)
    bases = {group.base for plan in study.scenario.plans for group in plan.units}
    assert len(bases) < study.scenario.plans[0].n_units   # fewer candidates than the first plan's cars
    code, stdout, stderr, _ = _optimize(tmp_path, "--goal", "0.5", "--candidates", "bases", "--json")
    assert code == 0, stderr
    found = json.loads(stdout)
    assert all(3 <= c["units"] <= len(bases) for c in found["curve"])
