"""A property-based test of the command line (hypothesis): scenarios and flags, valid and hostile,
each run as ``run_sim.py run`` in a process of its own with bounded memory and time.

For every case: exit 0 with consistent result files (response = wait + travel; replication k
of every plan meets the same incidents; summary.csv recomputed from incidents.csv), or exit 2
with one ``error:`` line per problem and no result files; never a traceback, never a hang,
never more than the memory bound.
"""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytestmark = pytest.mark.slow  # 24 whole command-line runs, each in a process of its own

ROOT = Path(__file__).resolve().parents[2]
SECONDS_PER_CASE = 90.0
EXTRA_MEMORY_BYTES = 1_500_000_000  # what one case may add to the imported package
ROUNDING = 1e-4  # the CSV files round to 4 decimals

# Places on the demo network (sites of the default scenario) and places off it.
ON_ROADS = [(-8.1712, 113.7005), (-8.1397, 113.7204), (-8.1655, 113.7125), (-8.1985, 113.6301),
            (-8.0961, 113.4984), (-8.3813, 113.6069), (-8.1230, 113.8069)]
OFF_ROADS = [(-7.0, 112.0), (95.0, 113.7), (-8.17, 400.0)]

huge = st.sampled_from([1e308, float("inf"), float("nan"), 10**30, -1, -1e-9, 0, "12", True, None, [1, 2], {}])


class Hostility:
    """Where a generated scenario may be hostile: nowhere (a valid scenario, to check its files),
    or anywhere, each value with a small chance."""

    def __init__(self, draw, hostile: bool):
        self.draw, self.on = draw, hostile

    def value(self, valid, weight: int = 12):
        """A valid value, or when hostile sometimes one of ``huge``."""
        return self.draw(st.one_of(*([valid] * weight), huge) if self.on else valid)

    def choice(self, valid: list, bad: list):
        return self.draw(st.sampled_from(valid + bad if self.on else valid))


def dist(h: Hostility) -> dict:
    kind = h.draw(st.sampled_from(["fixed", "exponential", "lognormal", "uniform", "triangular"]))
    if kind == "fixed":
        return {"dist": "fixed", "value": h.value(st.floats(0, 120))}
    if kind == "exponential":
        return {"dist": "exponential", "mean": h.value(st.floats(0.5, 120))}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": h.value(st.floats(1, 120)),
                "sd": h.value(st.floats(0.5, 100) | st.just(1e200) if h.on else st.floats(0.5, 100))}
    low = h.draw(st.floats(0, 60))
    if kind == "uniform":
        return {"dist": "uniform", "low": low, "high": low + h.draw(st.floats(0.5, 60))}
    mode = low + h.draw(st.floats(0, 30))
    return {"dist": "triangular", "low": low, "mode": mode, "high": mode + h.draw(st.floats(0.5, 30))}


@st.composite
def scenarios(draw) -> dict:
    # Hostile or valid (hypothesis favours small integers, so the hostile choice is the larger).
    h = Hostility(draw, draw(st.integers(0, 1)) == 1)
    n_sites = draw(st.integers(1, 4))
    positions = draw(st.lists(st.sampled_from(ON_ROADS + (OFF_ROADS if h.on else [])), min_size=n_sites,
                              max_size=n_sites))
    sites = [{"id": f"s{i}", "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(positions)]
    site_ids = [s["id"] for s in sites]
    types = [f"t{i}" for i in range(draw(st.integers(1, 3)))]
    disturbances = []
    for name in types:
        d = {"type": name, "rate_per_hour": h.value(st.floats(0, 4)), "on_scene_min": dist(h),
             "priority": h.value(st.integers(1, 3)), "units_required": h.value(st.just(1), 20)}
        if draw(st.booleans()):
            chosen = draw(st.sets(st.sampled_from(site_ids), min_size=1))
            d["sites"] = {site: h.value(st.floats(0.1, 5), 20) for site in sorted(chosen)}
        if draw(st.integers(0, 3)) == 0:
            d["hourly_profile"] = [h.value(st.floats(0.1, 3), 40) for _ in range(h.choice([24], [3, 25]))]
        if len(types) > 1 and draw(st.booleans()):
            others = [t for t in types if t != name]
            d["escalation"] = {"after_min": h.value(st.floats(1, 60)), "to": h.choice(others, [name])}
        disturbances.append(d)
    unit_types = {"car": {"agency": "Polri", "speed_factor": h.value(st.floats(0.3, 2.0))}, "van": {"agency": "TNI"}}

    def group() -> dict:
        mode = h.choice(["post", "base", "circuit", "random", "random-pool"], ["bogus"])
        patrol: dict = {"mode": mode}
        if mode == "post":
            patrol["at"] = h.choice(site_ids, ["nowhere"])
        elif mode == "circuit":
            patrol.update(route=draw(st.lists(st.sampled_from(site_ids), min_size=2, max_size=3)),
                          dwell_min=h.value(st.floats(0, 30)))
        elif mode == "random":
            patrol.update(dwell_min=h.value(st.floats(1, 30)))
        elif mode == "random-pool":
            patrol = {"mode": "random", "road_nodes": h.value(st.integers(1, 50)),
                      "radius_km": h.value(st.floats(0.5, 8)), "dwell_min": 5}
        return {"type": h.choice(["car", "van"], ["tank"]), "count": h.value(st.integers(1, 4)),
                "base": draw(st.sampled_from(site_ids)), "patrol": patrol}

    data = {
        "name": h.choice(["fuzz", "fuzz-2"], ["../up", "a b"]),
        "network": {"source": "demo"},
        "clock": {"start": h.choice(["2024-10-23T00:00", "2024-10-23T07:30"], ["2024-13-01", "noon"]),
                  "duration_hours": h.value(st.floats(3, 36)), "warmup_hours": draw(st.sampled_from([0, 0.5, 2]))},
        "replications": h.value(st.integers(1, 3)),
        "seed": h.value(st.integers(0, 2**40)),
        "target_response_min": h.value(st.floats(1, 30)),
        "sites": sites,
        "disturbances": disturbances,
        "unit_types": unit_types,
        "plans": [{"name": f"p{k}", "units": [group() for _ in range(draw(st.integers(1, 3)))]}
                  for k in range(draw(st.integers(1, 3)))],
        "dispatch": {"queue": h.choice(["priority", "fifo"], ["lifo"]),
                     "after_service": draw(st.sampled_from(["resume", "return_to_base"]))},
    }
    if h.on and draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(["extra", "clock"]))] = draw(huge)
    return data


def text_of(data: dict, damage: str) -> str:
    """The scenario as YAML, with a damage of the text itself."""
    text = yaml.safe_dump(data, sort_keys=False)
    if damage == "control":
        return text.replace("\n", "\x07\n", 1)
    if damage == "truncated":
        return text[: len(text) // 2]
    if damage == "nested":
        return text + "x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    if damage == "bomb":
        return text + "x: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
            f"x{k}: &a{k} [{', '.join(['*a' + str(k - 1)] * 10)}]\n" for k in range(1, 8))
    return text


valid_flags = st.lists(st.one_of(
    st.tuples(st.just("--hours"), st.sampled_from(["3", "12"])),
    st.tuples(st.just("--reps"), st.sampled_from(["1", "2"])),
    st.tuples(st.just("--seed"), st.sampled_from(["0", "42"])),
    st.tuples(st.just("--set"), st.sampled_from(["seed=3", "disturbances[0].rate_per_hour=2"])),
), max_size=2)
hostile_flags = st.lists(st.one_of(
    st.tuples(st.just("--hours"), st.sampled_from(["0", "-1", "1e308", "nan", "abc"])),
    st.tuples(st.just("--reps"), st.sampled_from(["0", str(10**12), "x"])),
    st.tuples(st.just("--seed"), st.sampled_from(["-5", str(10**30)])),
    st.tuples(st.just("--workers"), st.sampled_from(["0", "500"])),
    st.tuples(st.just("--set"), st.sampled_from(["nope.x=1", "clock.duration_hours=1e308", "replications"])),
), min_size=1, max_size=2)


@pytest.fixture(scope="module")
def runner(cache):
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fuzz_runner.py")], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    yield process
    process.stdin.close()
    process.wait(timeout=60)


def run_case(runner, argv: list[str], folder: Path) -> tuple[dict, str]:
    case = {"argv": argv, "stdout": str(folder / "stdout.txt"), "stderr": str(folder / "stderr.txt"),
            "seconds": SECONDS_PER_CASE, "extra_memory_bytes": EXTRA_MEMORY_BYTES}
    runner.stdin.write(json.dumps(case) + "\n")
    runner.stdin.flush()
    outcome = json.loads(runner.stdout.readline())
    return outcome, (folder / "stderr.txt").read_text(errors="replace")


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float:
    return float(text) if text != "" else math.nan


def check_result_files(out: Path, target_min: float) -> None:
    incidents = read_csv(out / "incidents.csv")
    summary = {row["plan"]: row for row in read_csv(out / "summary.csv")}
    by_plan_rep: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    responses: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in incidents:
        wait, travel, response = number(row["wait_min"]), number(row["travel_min"]), number(row["response_min"])
        assert not math.isnan(response), "every incident is followed until a unit is on scene"
        assert abs(response - (wait + travel)) <= 2 * ROUNDING
        assert response >= 0 and wait >= 0 and travel >= 0
        by_plan_rep[row["plan"], row["rep"]].append((row["incident_id"], row["type"], row["site"], row["t_created_min"]))
        if row["counted"] == "1":
            responses[row["plan"]][int(row["rep"])].append(response)
    reps = {rep for _, rep in by_plan_rep}
    for rep in reps:  # the same incidents in every plan
        drawn = [by_plan_rep.get((plan, rep), []) for plan in summary]
        assert all(d == drawn[0] for d in drawn)
    for plan, row in summary.items():
        pooled = [r for rep in responses[plan].values() for r in rep]
        assert int(row["incidents"]) == len(pooled)
        means = [np.mean(r) for r in responses[plan].values() if r]
        within = [100.0 * np.mean(np.asarray(r) <= target_min + ROUNDING / 2) for r in responses[plan].values() if r]
        if means:
            assert number(row["response_mean_min"]) == pytest.approx(np.mean(means), abs=2 * ROUNDING)
            # A response within rounding of the target could fall either side: allow one such incident.
            slack = 100.0 / min(len(r) for r in responses[plan].values() if r) + 1e-3
            assert abs(number(row["within_target_pct"]) - np.mean(within)) <= slack
        else:
            assert math.isnan(number(row["response_mean_min"]))


@settings(max_examples=24, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=scenarios(), damage=st.sampled_from(["none"] * 28 + ["control", "truncated", "nested", "bomb"]),
       flag_kind=st.integers(0, 3), good_flags=valid_flags, bad_flags=hostile_flags)
def test_any_scenario_runs_consistently_or_is_refused_in_one_line_per_problem(runner, tmp_path_factory, data, damage,
                                                                             flag_kind, good_flags, bad_flags):
    extra = bad_flags if flag_kind == 3 else good_flags
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "scenario.yaml"
    path.write_text(text_of(data, damage))
    out = folder / "out"
    argv = ["run", str(path), "--out", str(out), "--workers", "1", *[part for flag in extra for part in flag]]
    outcome, stderr = run_case(runner, argv, folder)
    assert not outcome["timed_out"], f"more than {SECONDS_PER_CASE:g} s"
    assert "Traceback" not in stderr, stderr[-3000:]
    assert outcome["code"] in (0, 2), (outcome, stderr[-3000:])
    event(f"exit {outcome['code']}")  # --hypothesis-show-statistics: how many ran, how many were refused
    if outcome["code"] == 2:
        lines = stderr.splitlines()
        errors = [line for line in lines if line.startswith("error: ")]
        assert errors and all(len(line) <= 1100 for line in errors)
        assert all(line.startswith(("error: ", "warning: ")) for line in lines), stderr[-3000:]
        assert not (out / "summary.csv").exists()
        return
    check_result_files(out, float(yaml.safe_load((out / "manifest.json").read_text())["scenario"]["target_response_min"]))
