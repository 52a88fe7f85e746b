"""The hypercube model of a plan beside the simulation of the same plan, and the command."""
from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world
from sim.analytic.validation import plan_model, simulate_figures
from tests.commands import in_process
from tests.graphs import random_grid_network

ROOT = Path(__file__).resolve().parents[2]
VALIDATION_SCENARIO = ROOT / "scenarios" / "validation_posts.yaml"


def test_a_plan_too_large_for_the_exact_model_says_how_its_user_allows_the_approximation(tmp_path):
    from sim.analytic.hypercube_balance import EXACT_MAX_UNITS
    from sim.cli.common import cli_names

    grid = random_grid_network(4, 4, seed=3)
    data = {
        "name": "many-units", "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T00:00", "duration_hours": 24}, "replications": 1, "seed": 5,
        "target_response_min": 15,
        "sites": [{"id": "s0", "name": "s0", "kind": "crowd_point", "lat": float(grid.lat[0]), "lon": float(grid.lon[0])}],
        "disturbances": [{"type": "call", "rate_per_hour": 1.0, "sites": {"s0": 1},
                          "on_scene_min": {"dist": "exponential", "mean": 30}, "priority": 1}],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [{"name": "many", "units": [{"type": "car", "count": EXACT_MAX_UNITS + 1, "base": "s0",
                                              "patrol": {"mode": "base"}}]}],
    }
    scenario = load_scenario(data, folder=tmp_path)
    world = build_world(scenario, grid, cache_dir=tmp_path)
    for names, allow in ((None, "allow_approximate=True"), (cli_names(), "--approximate")):
        with pytest.raises(InputError) as caught:
            plan_model(scenario, world, "many", **({"names": names} if names else {}))
        assert caught.value.problems == [f"hypercube: plan 'many' has {EXACT_MAX_UNITS + 1} units, more than the exact "
                                         f"model's {EXACT_MAX_UNITS}; add {allow} for Larson's approximation"]


def test_posted_units_busy_shares_and_dispatch_fractions_match_the_hypercube_model(tmp_path):
    """Inside the model's assumptions (posts, one unit per call, exponential on-scene time, and
    travel short beside it), the simulation agrees with the exact hypercube model."""
    grid = random_grid_network(12, 12, seed=3)
    rng = np.random.default_rng(8)
    nodes = [int(n) for n in rng.choice(grid.n_nodes, size=6, replace=False)]
    sites = [{"id": f"s{i}", "name": f"s{i}", "kind": "crowd_point", "lat": float(grid.lat[n]),
              "lon": float(grid.lon[n])} for i, n in enumerate(nodes)]
    data = {
        "name": "hypercube-check", "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T00:00", "duration_hours": 400, "warmup_hours": 10},
        "replications": 20, "seed": 5, "target_response_min": 15, "sites": sites,
        "disturbances": [{"type": "call", "rate_per_hour": 4.0, "sites": {"s0": 3, "s1": 1, "s2": 2, "s3": 1,
                                                                         "s4": 2, "s5": 1},
                          "on_scene_min": {"dist": "exponential", "mean": 30}, "priority": 1}],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [{"name": "posts", "units": [
            {"type": "car", "count": 1, "base": f"s{i}", "patrol": {"mode": "post", "at": f"s{i}"}}
            for i in (0, 2, 4, 5)]}],
        "dispatch": {"queue": "fifo"},
    }
    path = tmp_path / "posts.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = load_scenario(path)
    world = build_world(scenario, grid, cache_dir=tmp_path)
    model = plan_model(scenario, world, "posts")
    simulated = simulate_figures(scenario, world, model, scenario.replications)

    # A 99% interval for every figure together (Bonferroni over the figures compared).
    checks = [(f"workload of {unit}", simulated.workload[:, n], model.result.workload[n])
              for n, unit in enumerate(model.unit_ids)]
    checks += [(f"share of calls at {atom} served by {unit}", simulated.dispatch_fraction[:, n, j],
                model.result.dispatch_fraction[n, j])
               for n, unit in enumerate(model.unit_ids) for j, atom in enumerate(model.atoms)
               if model.result.dispatch_fraction[n, j] > 0.005]
    t = stats.t.ppf(1 - 0.01 / 2 / len(checks), scenario.replications - 1)
    for name, values, truth in checks:
        half = t * values.std(ddof=1) / math.sqrt(len(values))
        assert abs(values.mean() - truth) <= half, f"{name}: model {truth:.4f}, simulated {values.mean():.4f} ± {half:.4f}"
    assert model.result.workload.min() > 0.2  # loaded enough for second choices to matter


def cli(*args: str) -> subprocess.CompletedProcess:
    return in_process(*args)


def test_hypercube_json_puts_each_model_figure_beside_the_simulation(cache):
    result = cli("hypercube", str(VALIDATION_SCENARIO), "--plan", "five-posts", "--json", "--reps", "4",
                 "--hours", "200")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for name in ("queue_probability", "mean_wait_min", "mean_travel_min"):
        assert name in figures and f"{name}_sim" in figures and f"{name}_sim_ci95" in figures
    assert [u["unit_id"] for u in figures["units"]] == [f"polri_car-{i}" for i in range(1, 6)]
    for unit in figures["units"]:
        assert 0 < unit["workload"] < 1 and 0 < unit["workload_sim"] < 1 and unit["workload_sim_ci95"] > 0
    # Workloads add up to the offered load: calls per minute times mean service minutes.
    assert sum(u["workload"] for u in figures["units"]) == pytest.approx(
        sum(u["workload_sim"] for u in figures["units"]), rel=0.05)


def test_hypercube_without_simulation_prints_the_model_only(cache):
    result = cli("hypercube", str(VALIDATION_SCENARIO), "--plan", "five-posts", "--no-sim")
    assert result.returncode == 0, result.stderr
    assert "Hypercube model (exact)" in result.stdout and "simulation" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--plan", "mixed"], "has units that move"),
    (["--plan", "fixed-post"], "did you mean 'fixed-posts'"),
])
def test_hypercube_refuses_plans_it_cannot_model(cache, args, message):
    result = cli("hypercube", str(ROOT / "scenarios" / "jember_pilkada_2024.yaml"), *args, "--no-sim")
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_more_units_than_the_exact_model_takes_needs_the_approximation(cache):
    bigger = ["--set", "plans.five-posts.units[0].count=17"]  # 21 units: one more than the exact model takes
    refused = cli("hypercube", str(VALIDATION_SCENARIO), "--plan", "five-posts", "--no-sim", *bigger)
    assert refused.returncode == 2 and "--approximate" in refused.stderr and "Traceback" not in refused.stderr
    approximate = cli("hypercube", str(VALIDATION_SCENARIO), "--plan", "five-posts", "--no-sim", "--json",
                      "--approximate", *bigger)
    assert approximate.returncode == 0, approximate.stderr
    assert json.loads(approximate.stdout)["method"] == "approximate"
